/**
 * GET /v1/stats and /metrics read the open rows of the inbox, the deliveries and the
 * tracked messages from counts kept by triggers, and the oldest open delivery from an
 * index (migration 0010), never from a walk of a backlog. Every path that moves a row
 * (processing, dead letters, reprocessing, claims, outcomes, release on stop, retry of
 * dead deliveries, replay, the sweep, SMS, retention) must leave them equal to a real
 * count.
 */
import { sqliteDispatch } from "../../src/store/dispatch-engine";
import { afterEach, expect, test } from "bun:test";
import { Dispatcher } from "../../src/forward/dispatcher";
import { reportStore } from "../../src/store/report-store";
import { fixture, hook, pipeline, quiet } from "../support/pipeline";
import { Sink } from "../support/sink";
import { statusesPayload } from "../support/webhooks";
import { replayEvents, reprocessDeadInbox, retryDeadDeliveries } from "../../src/store/requeue-store";

const DAY = 86_400_000;
const sinks: Sink[] = [];
afterEach(() => sinks.splice(0).forEach((s) => s.stop()));

test("open delivery counts and the oldest open age stay exact through every move", async () => {
  const good = new Sink().start();
  const flaky = new Sink().start();
  let flakyDown = true;
  flaky.respond = () => new Response("no", { status: flakyDown ? 500 : 200 });
  sinks.push(good, flaky);
  const hooks = [hook({ name: "good", url: good.url }), hook({ name: "flaky", url: flaky.url, retry_schedule: ["1s"] })];
  const p = pipeline(hooks, { retention: "1d" });
  const report = reportStore(p.db);
  const exact = () => {
    for (const { name } of hooks) {
      const counted = p.db.query<{ state: string; n: number }, [string]>("SELECT state, count(*) n FROM deliveries WHERE hook = ? AND state <> 'done' GROUP BY state").all(name);
      expect(report.openDeliveries(name)).toEqual(Object.fromEntries(counted.map((r) => [r.state, r.n])));
      const oldest = p.db.query<{ at: number | null }, [string]>("SELECT min(created_at) at FROM deliveries NOT INDEXED WHERE hook = ? AND state IN ('pending', 'delivering')").get(name)!.at;
      expect(report.oldestOpenDeliveryAt(name)).toBe(oldest);
    }
  };

  for (let i = 0; i < 6; i++) {
    p.post(JSON.parse(JSON.stringify(fixture("message_text").payload).replace("wamid.TEXT", `wamid.N${i}`)));
    p.clock.advance(1_000);
  }
  await p.processor.runOnce();
  expect(report.openDeliveries("good")).toEqual({ pending: 6 });
  exact();

  await p.dispatcher.tick(); // claimed, in flight
  expect(report.openDeliveries("flaky")).toEqual({ delivering: 6 });
  exact();
  await p.dispatcher.drain();
  await p.dispatcher.flush();
  expect([report.openDeliveries("good"), report.openDeliveries("flaky")]).toEqual([{}, { pending: 6 }]);
  exact();

  p.clock.advance(2_000);
  await p.dispatcher.drain();
  await p.dispatcher.flush();
  expect(report.openDeliveries("flaky")).toEqual({ dead: 6 });
  expect(report.oldestOpenDeliveryAt("flaky")).toBeNull();
  exact();

  expect(retryDeadDeliveries(p.db, p.clock.now(), "flaky")).toBe(6);
  exact();
  flakyDown = false;
  await p.dispatcher.drain();
  await p.dispatcher.flush();
  expect(report.openDeliveries("flaky")).toEqual({});
  exact();

  // Replayed to "good", then a dispatcher that stops with claimed deliveries not yet started.
  replayEvents(p.db, hooks, { selection: { eventId: null, type: null, since: null, until: null }, hook: "good", force: false }, p.clock.now());
  exact();
  good.respond = async () => {
    await Bun.sleep(20);
    return new Response("ok");
  };
  const stopping = new Dispatcher(sqliteDispatch(p.db), { instance: "test", hooks: [hook({ name: "good", url: good.url, concurrency: 1 })], clock: p.clock, log: quiet });
  await stopping.tick();
  stopping.stop();
  await stopping.idle();
  await stopping.flush();
  expect(report.openDeliveries("good")).toEqual({ pending: 5 });
  exact();
  await p.dispatcher.drain();
  await p.dispatcher.flush();
  exact();

  // Retention deletes what is done and old.
  p.clock.advance(2 * DAY);
  await p.sweeper.jobs.run("retention");
  expect(p.count("SELECT count(*) n FROM deliveries")).toBe(0);
  exact();
  expect(p.db.query("SELECT hook, state, n FROM delivery_counts WHERE n <> 0").all()).toEqual([]);
});

test("inbox and tracked-message counts stay exact through processing, dead letters, the sweep, SMS and retention", async () => {
  const sms = new Sink().start();
  sinks.push(sms);
  const p = pipeline([], { retention: "1d", fallback: { enabled: true, stale_after: "1m", not_after: "1h", sms: { url: `http://127.0.0.1:${sms.port}/sms` } } });
  const report = reportStore(p.db);
  const open = (table: string) => Object.fromEntries(p.db.query<{ state: string; n: number }, []>(`SELECT state, count(*) n FROM ${table} WHERE state <> 'done' GROUP BY state`).all().map((r) => [r.state, r.n]));
  const exact = () => expect([report.inbox(), report.tracked()]).toEqual([open("inbox"), open("tracked_messages")]);
  const at = (wamid: string, status: string) => ({ id: wamid, status, timestamp: String(Math.floor(p.clock.now() / 1000)), recipient_id: "16505551234", biz_opaque_callback_data: JSON.stringify({ sms: "Your code" }) });

  p.post(statusesPayload(at("wamid.A", "sent"), at("wamid.B", "sent"), at("wamid.C", "sent")));
  p.post("not json at all");
  expect(report.inbox()).toEqual({ pending: 2 });
  exact();
  while ((await p.processor.runOnce()).jobs > 0);
  expect([report.inbox(), report.tracked()]).toEqual([{ dead: 1 }, { tracked: 3 }]);
  exact();

  p.post(statusesPayload(at("wamid.B", "delivered")));
  while ((await p.processor.runOnce()).jobs > 0);
  expect(report.tracked()).toEqual({ tracked: 2 });
  exact();

  p.clock.advance(61_000);
  await p.sweeper.jobs.run("stale");
  expect(report.tracked()).toEqual({ fallback_pending: 2 });
  exact();
  await p.sweeper.jobs.run("fallback");
  expect(sms.received).toHaveLength(2);
  expect(report.tracked()).toEqual({ fallback_sent: 2 });
  exact();

  expect(reprocessDeadInbox(p.db, null)).toBe(1);
  expect(report.inbox()).toEqual({ pending: 1 });
  exact();
  while ((await p.processor.runOnce()).jobs > 0);
  exact();

  p.clock.advance(2 * DAY);
  await p.sweeper.jobs.run("retention");
  expect(p.count("SELECT count(*) n FROM tracked_messages")).toBe(0);
  exact();
});
