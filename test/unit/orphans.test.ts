/**
 * Deliveries of a hook the daemon no longer runs (orphans) on a real SQLite file: the
 * daemon's recorded hooks decide what is orphaned; cancelling leaves the open counts
 * exact and lets retention delete the events; moving queues the events to a hook the
 * daemon runs; replay pages cover a selection exactly once.
 */
import { afterEach, expect, test } from "bun:test";
import { listDeliveries } from "../../src/admin/queues";
import { DeliveriesQuery } from "../../src/admin/params";
import { daemonHooksStore } from "../../src/store/daemon-hooks-store";
import { reportStore } from "../../src/store/report-store";
import { fixture, hook, pipeline } from "../support/pipeline";
import { Sink } from "../support/sink";
import { orphanedCounts, resolveOrphans, replayPage, retryDeadDeliveries } from "../../src/store/requeue-store";

const DAY = 86_400_000;
const sinks: Sink[] = [];
afterEach(() => sinks.splice(0).forEach((s) => s.stop()));

/** "good" delivers; "crm" refuses with a long retry, so its deliveries stay open; then the daemon drops crm. */
async function withOrphans(events = 3) {
  const good = new Sink().start();
  const crm = new Sink().start();
  crm.respond = () => new Response("no", { status: 500 });
  sinks.push(good, crm);
  const hooks = [hook({ name: "good", url: good.url, events: ["template.*"] }), hook({ name: "crm", url: crm.url, retry_schedule: ["10h"] })];
  const p = pipeline(hooks, { retention: "1d" });
  for (let i = 0; i < events; i++) p.post(JSON.parse(JSON.stringify(fixture("message_text").payload).replace("wamid.TEXT", `wamid.O${i}`)));
  while ((await p.processor.runOnce()).jobs > 0);
  await p.dispatcher.drain();
  await p.dispatcher.flush();
  daemonHooksStore(p.db).record([hooks[0]!], p.clock.now()); // the reload that removed crm
  return { p, good, running: ["good"] };
}

test("the daemon's hooks are recorded with their filters, in config order, and replaced at each reload", () => {
  const p = pipeline();
  const store = daemonHooksStore(p.db);
  store.record([hook({ name: "zeta", url: "http://127.0.0.1:1/", events: ["message.*"], phone_number_ids: ["106540352242922"] }), hook({ name: "alpha", url: "http://127.0.0.1:1/" })], 1);
  expect(store.list()).toEqual([
    { name: "zeta", events: ["message.*"], phone_number_ids: ["106540352242922"] },
    { name: "alpha", events: ["*"], phone_number_ids: [] },
  ]);
  store.record([], 2);
  expect(store.list()).toEqual([]);
});

test("open deliveries of a hook no longer run are orphaned; cancelling finishes them, keeps the counts exact, and retention then deletes their events", async () => {
  const { p, running } = await withOrphans();
  expect(orphanedCounts(p.db, running)).toEqual({ crm: { pending: 3 } });
  expect(orphanedCounts(p.db, ["good", "crm"])).toEqual({});

  // Retention keeps an event while a delivery of it is open, orphaned or not.
  p.clock.advance(2 * DAY);
  await p.sweeper.jobs.run("retention");
  expect(p.count("SELECT count(*) n FROM events")).toBe(3);

  expect(() => resolveOrphans(p.db, running, "good", { action: "cancel" }, p.clock.now())).toThrow('hook: "good" has no orphaned deliveries: the daemon runs it');
  expect(() => resolveOrphans(p.db, running, "nope", { action: "cancel" }, p.clock.now())).toThrow('"nope" has no orphaned deliveries: it has no open deliveries (hooks with orphaned deliveries: crm)');
  expect(resolveOrphans(p.db, running, null, { action: "cancel" }, p.clock.now())).toEqual({ cancelled: { crm: 3 }, moved_to: null, queued: 0 });
  expect(p.count("SELECT count(*) n FROM deliveries WHERE hook = 'crm' AND state = 'cancelled' AND lease_token IS NULL")).toBe(3);
  expect(orphanedCounts(p.db, running)).toEqual({});
  expect(reportStore(p.db).openDeliveries("crm")).toEqual({});
  expect(reportStore(p.db).oldestOpenDeliveryAt("crm")).toBeNull();

  await p.sweeper.jobs.run("retention");
  expect(p.count("SELECT count(*) n FROM events")).toBe(0);
  expect(p.count("SELECT count(*) n FROM deliveries")).toBe(0);
});

test("moving orphans queues their events to a hook the daemon runs, even those its filters exclude, and cancels them", async () => {
  const { p, good, running } = await withOrphans();
  expect(() => resolveOrphans(p.db, running, null, { action: "move", to: "crm" }, p.clock.now())).toThrow('to: the daemon runs no hook named "crm" (it runs: good)');
  // One event already went to good (a replay): it keeps that delivery, the other two are queued.
  const first = p.db.query<{ event_id: string }, []>("SELECT event_id FROM deliveries WHERE hook = 'crm' ORDER BY id LIMIT 1").get()!.event_id;
  replayPage(p.db, [hook({ name: "good", url: good.url })], { selection: { eventId: first, type: null, since: null, until: null }, hook: "good", force: true }, p.clock.now(), null, 1);
  await p.dispatcher.drain();
  await p.dispatcher.flush();
  expect(good.received).toHaveLength(1);

  expect(resolveOrphans(p.db, running, "crm", { action: "move", to: "good" }, p.clock.now())).toEqual({ cancelled: { crm: 3 }, moved_to: "good", queued: 2 });
  await p.dispatcher.drain();
  await p.dispatcher.flush();
  expect(good.received).toHaveLength(3);
  expect(new Set(good.received.map((r) => r.headers["webhook-id"])).size).toBe(3);
  expect(orphanedCounts(p.db, running)).toEqual({});
});

test("replay pages: each page queues at most `limit` events, and following next covers the selection exactly once", async () => {
  const { p } = await withOrphans(7);
  const hooks = [hook({ name: "good", url: "http://127.0.0.1:1/" })];
  const all = { selection: { eventId: null, type: null, since: 0, until: null }, hook: "good", force: true };
  const seen: number[] = [];
  let after: string | null = null;
  do {
    const page = replayPage(p.db, hooks, all, p.clock.now(), after, 3);
    seen.push(page.events);
    expect(page.queued).toEqual({ good: page.events });
    after = page.next;
  } while (after !== null);
  expect(seen).toEqual([3, 3, 1]);
  expect(replayPage(p.db, hooks, all, p.clock.now(), null, 7)).toMatchObject({ events: 7, next: null });
  expect(p.count("SELECT count(*) n FROM deliveries WHERE hook = 'good'")).toBe(7);
});

test("retry-dead without --hook leaves dead deliveries of a hook no longer run alone (pending, they would wait for no sender)", async () => {
  const { p, running } = await withOrphans(2);
  p.db.run("UPDATE deliveries SET state = 'dead' WHERE hook = 'crm'");
  p.db.run("INSERT INTO deliveries (event_id, hook, state, next_attempt_at, created_at, updated_at) SELECT event_id, 'good', 'dead', 0, 0, 0 FROM deliveries WHERE hook = 'crm'");
  expect(retryDeadDeliveries(p.db, p.clock.now(), null)).toBe(2);
  expect(p.count("SELECT count(*) n FROM deliveries WHERE hook = 'good' AND state = 'pending'")).toBe(2);
  expect(p.count("SELECT count(*) n FROM deliveries WHERE hook = 'crm' AND state = 'dead'")).toBe(2);
  expect(orphanedCounts(p.db, running)).toEqual({ crm: { dead: 2 } });
});

test("GET /v1/deliveries: only open deliveries of a removed hook are orphaned; its finished ones are listed, not flagged, and not under ?orphaned=true", async () => {
  const { p, running } = await withOrphans(2);
  p.db.run("UPDATE deliveries SET state = 'done' WHERE hook = 'crm' AND id = (SELECT min(id) FROM deliveries WHERE hook = 'crm')");
  const hooks = running.map((name) => hook({ name, url: "http://127.0.0.1:1/" }));
  const list = (q: Record<string, unknown>) => listDeliveries(p.db, hooks, DeliveriesQuery.parse(q)).body as { data: { hook: string; state: string; orphaned: boolean }[] };
  const crm = list({ hook: "crm" }).data.map((d) => `${d.state} ${d.orphaned}`);
  expect(crm.sort()).toEqual(["done false", "pending true"]);
  expect(list({ orphaned: "true" }).data.map((d) => `${d.hook} ${d.state}`)).toEqual(["crm pending"]);
  expect(list({ orphaned: "true", state: "done" }).data).toEqual([]);
  expect(list({ orphaned: "true", state: "pending" }).data).toHaveLength(1);
  expect(list({ orphaned: "false" }).data.every((d) => d.hook === "good")).toBe(true);
});
