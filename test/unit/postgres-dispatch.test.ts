/**
 * Dispatch on the PostgreSQL engine, against a real server and a real hook over loopback:
 * two instances dispatching the same hook's queue send each delivery once; failures are
 * retried on schedule and counted; an instance whose lease ran out cannot record over the
 * attempt another instance made since; a stopping instance hands back what it never
 * started; a restarted instance takes back its own deliveries in flight.
 */
import { afterEach, expect, test } from "bun:test";
import { Dispatcher } from "../../src/forward/dispatcher";
import { postgresDispatch } from "../../src/store/postgres/dispatch-engine";
import { hook, quiet, TestClock } from "../support/pipeline";
import { migratedDatabase } from "../support/postgres";
import { postgresPipeline } from "../support/postgres-pipeline";
import { Sink } from "../support/sink";
import { textMessage } from "../support/webhooks";

const sinks: Sink[] = [];
afterEach(() => sinks.splice(0).forEach((s) => s.stop()));
const sink = () => (sinks.push(new Sink().start()), sinks.at(-1)!);

async function stored(n: number, hooks: ReturnType<typeof hook>[], clock = new TestClock()) {
  const { sql } = await migratedDatabase(12);
  const p = await postgresPipeline(sql, hooks, { clock });
  await p.postMany(Array.from({ length: n }, (_, i) => textMessage(`wamid.D${i}`, `hello ${i}`)));
  while ((await p.processor.runOnce()).jobs > 0);
  return p;
}

const dispatcher = (p: Awaited<ReturnType<typeof stored>>, hooks: ReturnType<typeof hook>[], instance: string) =>
  new Dispatcher(postgresDispatch(p.sql), { instance, hooks, clock: p.clock, log: quiet, random: () => 1 });

test("two instances dispatching one hook's queue: every event delivered exactly once, counted once", async () => {
  const s = sink();
  const hooks = [hook({ name: "app", url: s.url, concurrency: 8 })];
  const p = await stored(120, hooks);
  await Promise.all([dispatcher(p, hooks, "wa-1").drain(), dispatcher(p, hooks, "wa-2").drain()]);
  const ids = s.received.map((r) => r.headers["webhook-id"]);
  expect(ids).toHaveLength(120);
  expect(new Set(ids).size).toBe(120);
  expect(await p.count("SELECT count(*) n FROM deliveries WHERE state = 'done' AND attempts = 1 AND lease_token IS NULL")).toBe(120);
  expect(await p.count("SELECT sum(n) n FROM stats_by_minute WHERE kind = 'delivered' AND key = 'app'")).toBe(120);
});

test("a failing hook: retried on its schedule, then dead with the last answer kept", async () => {
  const s = sink();
  s.respond = () => new Response("nope", { status: 503 });
  const hooks = [hook({ name: "app", url: s.url, retry_schedule: ["1s"] })];
  const p = await stored(2, hooks);
  const d = dispatcher(p, hooks, "wa-1");
  await d.drain();
  await d.flush();
  expect(await p.count("SELECT count(*) n FROM deliveries WHERE state = 'pending' AND attempts = 1 AND last_status = 503")).toBe(2);
  p.clock.advance(1_000);
  await d.drain();
  await d.flush();
  const rows = await p.sql`SELECT state, attempts, last_error, last_response FROM deliveries`;
  expect([...rows]).toEqual([
    { state: "dead", attempts: 2, last_error: "HTTP 503", last_response: "nope" },
    { state: "dead", attempts: 2, last_error: "HTTP 503", last_response: "nope" },
  ]);
  expect(s.received).toHaveLength(4);
});

test("an outcome whose lease was lost is not recorded; claimed but never started is handed back; a restart takes back its own", async () => {
  const s = sink();
  const hooks = [hook({ name: "app", url: s.url })];
  const p = await stored(3, hooks);
  const engine = postgresDispatch(p.sql);
  const now = p.clock.now();
  const [mine] = (await engine.turn([], [{ hook: "app", token: "wa-slow:1", leaseUntil: now + 1_000, limit: 3 }], now)).claimed;
  expect(mine).toHaveLength(3);
  // Another instance takes the expired leases and delivers.
  p.clock.advance(1_001);
  await dispatcher(p, hooks, "wa-2").drain();
  expect(s.received).toHaveLength(3);
  const late = mine!.map((d) => ({ id: d.id, hook: "app", eventId: d.event_id, token: "wa-slow:1", outcome: { state: "dead" as const }, last: { status: 500, error: "late", response: null }, at: p.clock.now() }));
  expect(await engine.flush(late, [])).toBe(0);
  expect(await p.count("SELECT count(*) n FROM deliveries WHERE state = 'done'")).toBe(3);

  // Claimed by a run that stopped before starting them: due again, attempt uncounted.
  await p.sql`UPDATE deliveries SET state = 'pending', next_attempt_at = 0`;
  const t = p.clock.now();
  const [held] = (await engine.turn([], [{ hook: "app", token: "wa-3:a", leaseUntil: t + 60_000, limit: 3 }], t)).claimed;
  await engine.flush([], [{ id: held![0]!.id, token: "wa-3:a" }]);
  expect(await p.count("SELECT count(*) n FROM deliveries WHERE state = 'pending'")).toBe(1);
  expect(await engine.recoverLeases("wa-3", t)).toBe(2);
  expect(await p.count("SELECT count(*) n FROM deliveries WHERE state = 'pending' AND lease_token IS NULL")).toBe(3);
});
