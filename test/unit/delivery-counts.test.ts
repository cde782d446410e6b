/**
 * GET /v1/stats and /metrics read open deliveries from counts kept by triggers and an
 * index of open deliveries by age (migration 0010), not from a walk of the backlog.
 * Every path that moves a delivery (processing, claim, outcome, release on stop, retry
 * of dead ones, replay, retention) must leave them equal to a real count.
 */
import { afterEach, expect, test } from "bun:test";
import { Dispatcher } from "../../src/forward/dispatcher";
import { reportStore } from "../../src/store/report-store";
import { replayEvents, retryDeadDeliveries } from "../../src/worker/replay";
import { fixture, hook, pipeline, quiet } from "../support/pipeline";
import { Sink } from "../support/sink";

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
  p.processor.runOnce();
  expect(report.openDeliveries("good")).toEqual({ pending: 6 });
  exact();

  p.dispatcher.tick(); // claimed, in flight
  expect(report.openDeliveries("flaky")).toEqual({ delivering: 6 });
  exact();
  await p.dispatcher.drain();
  p.dispatcher.flush();
  expect([report.openDeliveries("good"), report.openDeliveries("flaky")]).toEqual([{}, { pending: 6 }]);
  exact();

  p.clock.advance(2_000);
  await p.dispatcher.drain();
  p.dispatcher.flush();
  expect(report.openDeliveries("flaky")).toEqual({ dead: 6 });
  expect(report.oldestOpenDeliveryAt("flaky")).toBeNull();
  exact();

  expect(retryDeadDeliveries(p.db, p.clock.now(), "flaky")).toBe(6);
  exact();
  flakyDown = false;
  await p.dispatcher.drain();
  p.dispatcher.flush();
  expect(report.openDeliveries("flaky")).toEqual({});
  exact();

  // Replayed to "good", then a dispatcher that stops with claimed deliveries not yet started.
  replayEvents(p.db, hooks, { selection: { eventId: null, type: null, since: null, until: null }, hook: "good", force: false }, p.clock.now());
  exact();
  good.respond = async () => {
    await Bun.sleep(20);
    return new Response("ok");
  };
  const stopping = new Dispatcher(p.db, { instance: "test", hooks: [hook({ name: "good", url: good.url, concurrency: 1 })], clock: p.clock, log: quiet });
  stopping.tick();
  stopping.stop();
  await stopping.idle();
  stopping.flush();
  expect(report.openDeliveries("good")).toEqual({ pending: 5 });
  exact();
  await p.dispatcher.drain();
  p.dispatcher.flush();
  exact();

  // Retention deletes what is done and old.
  p.clock.advance(2 * DAY);
  await p.sweeper.jobs.run("retention");
  expect(p.count("SELECT count(*) n FROM deliveries")).toBe(0);
  exact();
  expect(p.db.query("SELECT hook, state, n FROM delivery_counts WHERE n <> 0").all()).toEqual([]);
});
