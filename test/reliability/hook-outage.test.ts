/**
 * Case 8: one hook down for the whole retry schedule (hours of injected time) while
 * 1,000 events arrive. Its retries keep to the schedule; a healthy hook beside it gets
 * every event at once; once dead, a replay delivers all of them to the recovered hook,
 * each with the webhook-id it had from the start.
 *
 * On PostgreSQL (WA_TEST_ENGINE=postgres) the same steps run on that engine's processing
 * and dispatch, in process; replaying a time range at once is not on that engine yet, so
 * the replay there goes event by event, as `POST /v1/events/{id}/replay` does.
 */
import { expect, test } from "bun:test";
import { afterEach } from "bun:test";
import { parseDuration } from "../../src/config/duration";
import { DEFAULT_RETRY_SCHEDULE } from "../../src/config/schema";
import { cleanUpAfterAll, enginePipeline } from "../support/engine";
import { hook } from "../support/pipeline";
import { Sink } from "../support/sink";
import { textMessage } from "../support/webhooks";
import { report, size } from "./size";

const sinks: Sink[] = [];
afterEach(() => sinks.splice(0).forEach((s) => s.stop()));
cleanUpAfterAll(); // PostgreSQL: the databases of this file dropped after it

const EVENTS = size(1_000, 1_000);

test(`a hook down through its whole schedule while ${EVENTS} events arrive: schedule kept, the healthy hook unaffected, replay delivers all with their webhook-ids`, async () => {
  const down = new Sink().start();
  const healthy = new Sink().start();
  sinks.push(down, healthy);
  const p = await enginePipeline([hook({ name: "down", url: down.url }), hook({ name: "healthy", url: healthy.url })]);
  const attemptsAt = new Map<string, number[]>(); // webhook-id → when the down hook was tried (injected clock)
  down.respond = (r) => {
    const id = r.headers["webhook-id"]!;
    attemptsAt.set(id, [...(attemptsAt.get(id) ?? []), p.clock.now()]);
    return new Response("unavailable", { status: 503 });
  };
  const dispatch = async () => {
    await p.dispatcher.drain();
    await p.dispatcher.flush();
  };
  const t0 = p.clock.now();
  for (let i = 0; i < EVENTS; i++) await p.post(textMessage(`wamid.OUTAGE${i}`));
  await p.processAll();
  await dispatch();
  // The healthy hook has everything before any time passes.
  expect(new Set(healthy.received.map((r) => r.headers["webhook-id"])).size).toBe(EVENTS);

  // Walk the injected clock from one due retry to the next until the down hook's deliveries are all dead.
  const pending = () => p.count("SELECT count(*) n FROM deliveries WHERE hook = 'down' AND state = 'pending'");
  while ((await pending()) > 0) {
    const due = await p.count("SELECT min(next_attempt_at) n FROM deliveries WHERE hook = 'down' AND state = 'pending'");
    p.clock.t = Math.max(p.clock.t, due);
    await dispatch();
  }
  expect(await p.count("SELECT count(*) n FROM deliveries WHERE hook = 'down' AND state = 'dead'")).toBe(EVENTS);
  const schedule = DEFAULT_RETRY_SCHEDULE.map((d) => parseDuration(d)!);
  for (const [id, times] of attemptsAt) {
    expect({ id, attempts: times.length }).toEqual({ id, attempts: schedule.length + 1 });
    // Full jitter: each wait is at most its step of the schedule, never more.
    times.slice(1).forEach((t, k) => expect(t - times[k]!).toBeLessThanOrEqual(schedule[k]!));
  }
  const hours = (p.clock.now() - t0) / 3_600_000;

  // The hook recovers; replay sends it everything, under the same webhook-ids.
  down.respond = () => new Response("ok");
  const firstIds = new Set(attemptsAt.keys());
  const before = down.received.length;
  const replayed = await p.replay([{ name: "down", events: ["*"], phone_number_ids: [] }], { selection: { eventId: null, type: null, since: t0, until: p.clock.now() }, hook: "down", force: false });
  expect(replayed).toEqual({ down: EVENTS });
  await dispatch();
  const afterIds = new Set(down.received.slice(before).map((r) => r.headers["webhook-id"]!));
  expect(afterIds).toEqual(firstIds);
  expect(healthy.received).toHaveLength(EVENTS);
  report("hook outage", { events: EVENTS, attempts_each: schedule.length + 1, injected_hours: Math.round(hours * 10) / 10, replayed: afterIds.size, healthy_deliveries: healthy.received.length });
}, size(60_000, 300_000));
