/**
 * Retention and scheduled jobs on the PostgreSQL engine, against a real server: the
 * retention job leaves exactly what the SQLite engine's leaves on the same webhooks
 * (old and finished rows gone; pending webhooks, dead letters, events with open
 * deliveries and current state kept; dedup keys 8 days at least); three instances
 * firing one schedule run it once, and say which instance did.
 */
import { expect, test } from "bun:test";
import { postgresRetentionJob } from "../../src/sweeper/retention-postgres";
import { ClusterJobs, scheduledTime } from "../../src/sweeper/cluster-jobs";
import { metrics } from "../../src/metrics/catalogue";
import { postgresRetention, START, type Key } from "../../src/store/postgres/retention-store";
import { scheduledRuns } from "../../src/store/postgres/scheduled-runs";
import { fixture, hook, pipeline, quiet, TestClock } from "../support/pipeline";
import { migratedDatabase } from "../support/postgres";
import { postgresPipeline } from "../support/postgres-pipeline";
import { statusesPayload } from "../support/webhooks";

const DAY = 86_400_000;
const TABLES = ["inbox", "inbox_bodies", "events", "deliveries", "dedup_keys", "outbound_messages", "message_statuses", "inbound_messages", "state_history", "state_values", "contacts", "templates", "alerts"];

test("the retention job leaves on PostgreSQL exactly what it leaves on SQLite", async () => {
  const hooks = [hook({ name: "app", url: "http://127.0.0.1:9/", events: ["template.*"] })];
  const day0 = [fixture("message_text").payload, fixture("template_status_paused").payload, statusesPayload({ id: "wamid.R1", status: "sent", timestamp: "1763900000", recipient_id: "16505551234" })];
  const day2 = [statusesPayload({ id: "wamid.R2", status: "delivered", timestamp: "1764070000", recipient_id: "16505551234" })];

  const sqlite = pipeline(hooks, { retention: "1d" });
  const { sql } = await migratedDatabase();
  const pg = await postgresPipeline(sql, hooks, { clock: new TestClock(sqlite.clock.now()) });
  for (const body of day0) {
    sqlite.post(body);
    await pg.post(body);
  }
  while ((await sqlite.processor.runOnce()).jobs > 0);
  while ((await pg.processor.runOnce()).jobs > 0);
  sqlite.post("not json at all"); // dead: kept for reprocess
  await pg.post("not json at all");
  while ((await sqlite.processor.runOnce()).jobs > 0);
  while ((await pg.processor.runOnce()).jobs > 0);
  // The template's delivery stays pending (nothing sends it): its event is kept.
  sqlite.clock.advance(2 * DAY);
  pg.clock.advance(2 * DAY);
  for (const body of day2) {
    sqlite.post(body);
    await pg.post(body);
  }
  while ((await sqlite.processor.runOnce()).jobs > 0);
  while ((await pg.processor.runOnce()).jobs > 0);
  sqlite.post(fixture("message_reaction").payload); // pending: never deleted
  await pg.post(fixture("message_reaction").payload);

  const count = async () => {
    const out: Record<string, [number, number]> = {};
    for (const t of TABLES) out[t] = [sqlite.count(`SELECT count(*) n FROM ${t}`), await pg.count(`SELECT count(*) n FROM ${t}`)];
    return out;
  };
  const before = await count();
  expect((await sqlite.sweeper.jobs.run("retention")).ran).toBe(true);
  const result = await postgresRetentionJob(sql, DAY, 100, pg.clock)();
  const after = await count();
  for (const [table, [lite, postgres]] of Object.entries(after)) expect({ table, postgres }).toEqual({ table, postgres: lite });
  // Something old went, and something was kept by rule.
  expect(after.events![1]).toBeLessThan(before.events![1]);
  expect(after.inbox![1]).toBeGreaterThanOrEqual(2);
  expect(await pg.count("SELECT count(*) n FROM inbox WHERE state = 'dead'")).toBe(1);
  expect(await pg.count("SELECT count(*) n FROM deliveries WHERE state = 'pending'")).toBe(1);
  expect(result).toMatchObject({ dedup_keys: 0 }); // 2 days < 8: every key stays
  // Eight days on, the dedup keys go too (Meta retries for 7).
  pg.clock.advance(7 * DAY);
  expect(await postgresRetentionJob(sql, DAY, 100, pg.clock)()).toMatchObject({ dedup_keys: expect.any(Number) });
  expect(await pg.count("SELECT count(*) n FROM dedup_keys")).toBeLessThan(after.dedup_keys![1]);
});

test("one schedule fired on three instances at once runs once, and the run says which instance ran it", async () => {
  const { sql } = await migratedDatabase(6);
  const clock = new TestClock(Date.parse("2026-12-05T03:30:00.120Z"));
  let runs = 0;
  const job = { name: "retention", schedule: "0 30 3 * * *", run: async () => ({ n: ++runs }) };
  const instances = ["wa-1", "wa-2", "wa-3"].map((name) => new ClusterJobs([job], scheduledRuns(sql), name, clock, quiet));
  const counted = () => metrics.snapshot().counters.wa_job_runs_total?.["job=retention,result=ok"]?.value ?? 0;
  const countedBefore = counted();
  const ran = await Promise.all(instances.map((i) => i.fire(job)));
  expect(ran.filter(Boolean)).toHaveLength(1);
  expect(runs).toBe(1);
  // An instance whose timer is a little late, or whose clock is a little early, names the same fire.
  expect(await instances[1]!.fire(job, Date.parse("2026-12-05T03:30:01.200Z"))).toBe(false);
  expect(await instances[2]!.fire(job, Date.parse("2026-12-05T03:29:59.700Z"))).toBe(false);
  expect(runs).toBe(1);
  // The next day's fire runs again, once.
  const next = await Promise.all(instances.map((i) => i.fire(job, Date.parse("2026-12-06T03:30:00.050Z"))));
  expect(next.filter(Boolean)).toHaveLength(1);
  const latest = await scheduledRuns(sql).latest(5);
  expect(latest.map((r) => [r.name, new Date(r.fire_at).toISOString(), r.result])).toEqual([
    ["retention", "2026-12-06T03:30:00.000Z", JSON.stringify({ n: 2 })],
    ["retention", "2026-12-05T03:30:00.000Z", JSON.stringify({ n: 1 })],
  ]);
  expect(["wa-1", "wa-2", "wa-3"]).toContain(latest[0]!.instance);
  // /metrics counts a run where it ran: once per fire across the instances.
  expect(counted() - countedBefore).toBe(2);
});

test("the fire time is the schedule's, not the timer's", () => {
  expect(new Date(scheduledTime("0 30 3 * * *", Date.parse("2026-12-05T03:30:00.400Z"))).toISOString()).toBe("2026-12-05T03:30:00.000Z");
  expect(new Date(scheduledTime("*/15 * * * * *", Date.parse("2026-12-05T10:00:31.000Z"))).toISOString()).toBe("2026-12-05T10:00:30.000Z");
});

test("a run longer than the schedule's period is not joined by the next fire's on the same instance (croner's protect sees the run)", async () => {
  const { sql } = await migratedDatabase(4);
  let running = 0;
  let most = 0;
  let runs = 0;
  // Every second, each run taking 2.5 s: unprotected, the fires pile up (the soak on PostgreSQL had 8 retention walks at once, every pool connection).
  const job = {
    name: "slow",
    schedule: "* * * * * *",
    run: async () => {
      most = Math.max(most, ++running);
      runs++;
      await Bun.sleep(2_500);
      running--;
      return {};
    },
  };
  const jobs = new ClusterJobs([job], scheduledRuns(sql), "wa-1", { now: () => Date.now() }, quiet);
  jobs.start();
  await Bun.sleep(4_500);
  await jobs.stop();
  expect(runs).toBeGreaterThanOrEqual(1);
  expect(most).toBe(1);
}, 30_000);

test("the inbox is walked only as far as its rows are old enough: ids grow with arrival, the first young page ends the walk", async () => {
  const { sql } = await migratedDatabase();
  const cutoff = 1_764_000_000_000;
  const row = (receivedAt: number) => ({ received_at: receivedAt, signature: "sha256=00", parseable: true, instance: "test", state: "done" });
  await sql`INSERT INTO inbox ${sql(Array.from({ length: 60 }, (_, i) => row(cutoff - DAY + i)))}`;
  await sql`INSERT INTO inbox ${sql(Array.from({ length: 60 }, (_, i) => row(cutoff + i)))}`;
  const store = postgresRetention(sql);
  let after: Key | null = START.inbox;
  let pages = 0;
  let deleted = 0;
  while (after !== null) {
    const page = await store.walk("inbox", cutoff, after, 10);
    pages++;
    deleted += page.deleted;
    after = page.next;
  }
  expect({ pages, deleted }).toEqual({ pages: 7, deleted: 60 }); // six old pages, then the first young one: not the other five
  expect((await sql`SELECT count(*)::int n, min(received_at)::bigint AS oldest FROM inbox`)[0]).toEqual({ n: 60, oldest: String(cutoff) });
});
