/**
 * Processing on the PostgreSQL engine, against a real server: the fixture corpus decides
 * exactly what the SQLite engine decides (one batch, or one job at a time); three
 * instances sharing the queue, each webhook delivered to two of them, store one event
 * per occurrence and the same state; statuses of one message processed on several
 * instances at once end as one after the other would; a slow instance whose lease ran
 * out cannot finish work another instance now holds.
 */
import { expect, test } from "bun:test";
import type { SQL } from "bun";
import { postgresProcessing } from "../../src/store/postgres/processing-engine";
import { fixture, fixtureCorpus, hook, pipeline, TestClock } from "../support/pipeline";
import { migratedDatabase } from "../support/postgres";
import { postgresPipeline } from "../support/postgres-pipeline";
import { statusesPayload } from "../support/webhooks";

/** The same questions to each engine; rows compared as plain values (ints as numbers, flags as 0/1, text in binary order). */
const STATE = [
  { sqlite: "SELECT wamid, recipient_id, status, status_at, errors, pricing FROM outbound_messages ORDER BY wamid", pg: `SELECT wamid, recipient_id, status, status_at::float8 AS status_at, errors, pricing FROM outbound_messages ORDER BY wamid COLLATE "C"` },
  { sqlite: "SELECT wamid, status, status_at, errors, pricing FROM message_statuses ORDER BY wamid, id", pg: `SELECT wamid, status, status_at::float8 AS status_at, errors, pricing FROM message_statuses ORDER BY wamid COLLATE "C", id` },
  { sqlite: "SELECT subject, subject_id, attribute, value, at FROM state_values ORDER BY 1, 2, 3", pg: `SELECT subject, subject_id, attribute, value, at::float8 AS at FROM state_values ORDER BY subject COLLATE "C", subject_id COLLATE "C", attribute COLLATE "C"` },
  {
    sqlite: "SELECT subject, subject_id, attribute, value, at, applied FROM state_history ORDER BY received_at, event_id, subject, subject_id, attribute",
    pg: `SELECT subject, subject_id, attribute, value, at::float8 AS at, applied::int AS applied FROM state_history ORDER BY received_at, event_id COLLATE "C", subject COLLATE "C", subject_id COLLATE "C", attribute COLLATE "C"`,
  },
  { sqlite: "SELECT wa_id, profile_name, last_seen_at, marketing_opt_out FROM contacts ORDER BY wa_id", pg: `SELECT wa_id, profile_name, last_seen_at::float8 AS last_seen_at, marketing_opt_out::int AS marketing_opt_out FROM contacts ORDER BY wa_id COLLATE "C"` },
  { sqlite: "SELECT template_id, name, language, status, quality, category FROM templates ORDER BY template_id", pg: `SELECT template_id, name, language, status, quality, category FROM templates ORDER BY template_id COLLATE "C"` },
  { sqlite: "SELECT wamid, sender, kind FROM inbound_messages ORDER BY wamid", pg: `SELECT wamid, sender, kind FROM inbound_messages ORDER BY wamid COLLATE "C"` },
  { sqlite: "SELECT key, duplicates FROM dedup_keys ORDER BY key", pg: `SELECT key, duplicates FROM dedup_keys ORDER BY key COLLATE "C"` },
  { sqlite: "SELECT type, wamid, wa_id, dedup_key, envelope FROM events ORDER BY id", pg: "SELECT type, wamid, wa_id, dedup_key, envelope FROM events ORDER BY id" },
  { sqlite: "SELECT kind, key, sum(n) n FROM stats_by_minute GROUP BY 1, 2 ORDER BY 1, 2", pg: `SELECT kind, key, sum(n)::float8 AS n FROM stats_by_minute GROUP BY 1, 2 ORDER BY kind COLLATE "C", key COLLATE "C"` },
  { sqlite: "SELECT e.type, d.hook, d.state FROM deliveries d JOIN events e ON e.id = d.event_id ORDER BY e.id, d.hook", pg: `SELECT e.type, d.hook, d.state FROM deliveries d JOIN events e ON e.id = d.event_id ORDER BY e.id, d.hook COLLATE "C"` },
  { sqlite: "SELECT id, person, kind, current_at FROM identities ORDER BY id", pg: `SELECT id, person, kind, current_at::float8 AS current_at FROM identities ORDER BY id COLLATE "C"` },
];

/** An envelope without what differs by run (its id, when it was stored). */
const comparable = (rows: Record<string, unknown>[]) =>
  rows.map(({ envelope, ...rest }) => {
    if (typeof envelope !== "string") return rest;
    const { id: _id, ...e } = JSON.parse(envelope) as Record<string, unknown>;
    return { ...rest, envelope: e };
  });

const sqliteState = (p: ReturnType<typeof pipeline>) => STATE.map((q) => comparable(p.db.query(q.sqlite).all() as Record<string, unknown>[]));
const pgState = async (sql: SQL) => {
  const out = [];
  for (const q of STATE) out.push(comparable([...(await sql.unsafe(q.pg))]));
  return out;
};


const hooks = [hook({ name: "app", url: "http://127.0.0.1:9/" }), hook({ name: "statuses", url: "http://127.0.0.1:9/", events: ["message.status"] })];

test("the fixture corpus decides on PostgreSQL exactly what it decides on SQLite, in one batch or one job at a time", async () => {
  const reference = pipeline(hooks);
  for (const body of fixtureCorpus()) reference.post(body);
  while ((await reference.processor.runOnce(10_000)).jobs > 0);
  const expected = sqliteState(reference);
  expect(expected.at(-1)!.length).toBeGreaterThan(0); // the corpus's number and user id changes linked ids

  const together = await postgresPipeline((await migratedDatabase()).sql, hooks, { batchSize: 10_000 });
  await together.postMany(fixtureCorpus());
  expect((await together.processor.runOnce(10_000)).jobs).toBe(fixtureCorpus().length);
  expect(await pgState(together.sql)).toEqual(expected);
  expect(await together.count("SELECT count(*) n FROM inbox WHERE state = 'done'")).toBe(fixtureCorpus().length);

  const alone = await postgresPipeline((await migratedDatabase()).sql, hooks);
  for (const body of fixtureCorpus()) await alone.post(body);
  while ((await alone.processor.runOnce(1)).jobs > 0);
  expect(await pgState(alone.sql)).toEqual(expected);
});

test("three instances share the queue, each webhook reaching two of them: one event per occurrence, the same state as one instance", async () => {
  const reference = pipeline(hooks);
  for (const body of fixtureCorpus()) reference.post(body);
  while ((await reference.processor.runOnce(10_000)).jobs > 0);
  const events = reference.count("SELECT count(*) n FROM events");
  const dups = reference.count("SELECT coalesce(sum(duplicates), 0) n FROM dedup_keys");

  const { sql } = await migratedDatabase(12);
  const clock = new TestClock();
  const instances = await Promise.all(["wa-1", "wa-2", "wa-3"].map((instance) => postgresPipeline(sql, hooks, { clock, instance, batchSize: 4 })));
  // Meta retries a POST it got no answer for: the copy lands on another instance.
  const bodies = fixtureCorpus();
  await Promise.all(bodies.map((b, i) => Promise.all([instances[i % 3]!.post(b), instances[(i + 1) % 3]!.post(b)])));
  await Promise.all(instances.map(async (p) => void (await drain(p.processor))));

  const count = (q: string) => instances[0]!.count(q);
  expect(await count("SELECT count(*) n FROM inbox WHERE state <> 'done'")).toBe(0);
  expect(await count("SELECT count(*) n FROM events")).toBe(events);
  // Every candidate event is stored once or counted as a duplicate: twice the candidates, the same events.
  expect((await count("SELECT count(*) n FROM events")) + (await count("SELECT coalesce(sum(duplicates), 0) n FROM dedup_keys"))).toBe(2 * (events + dups));
  // What does not depend on arrival order must match: each message's furthest status, each
  // value by Meta's clock. (Which copy's pricing is kept, or when an unchanged profile name
  // was last noticed, follows arrival order on either engine.)
  const [outbound, , values, , contacts, templates] = await pgState(sql);
  const expected = sqliteState(reference);
  const pick = (rows: Record<string, unknown>[], ...keys: string[]) => rows.map((r) => Object.fromEntries(keys.map((k) => [k, r[k]])));
  expect(pick(outbound!, "wamid", "status")).toEqual(pick(expected[0]!, "wamid", "status"));
  expect(pick(values!, "subject", "subject_id", "attribute", "value")).toEqual(pick(expected[2]!, "subject", "subject_id", "attribute", "value"));
  expect(pick(contacts!, "wa_id", "profile_name", "marketing_opt_out")).toEqual(pick(expected[4]!, "wa_id", "profile_name", "marketing_opt_out"));
  expect(pick(templates!, "template_id", "status", "quality", "category")).toEqual(pick(expected[5]!, "template_id", "status", "quality", "category"));
  expect(await count("SELECT count(*) n FROM deliveries")).toBe(reference.count("SELECT count(*) n FROM deliveries"));
});

test("statuses of the same messages processed on three instances at once end as one after the other: the furthest status, every status on the timeline", async () => {
  const { sql } = await migratedDatabase(12);
  const clock = new TestClock();
  const instances = await Promise.all(["wa-1", "wa-2", "wa-3"].map((instance) => postgresPipeline(sql, [], { clock, instance, batchSize: 3 })));
  const steps = ["sent", "delivered", "read"];
  const jobs: unknown[] = [];
  for (let m = 0; m < 40; m++) for (const [i, s] of steps.entries()) jobs.push(statusesPayload({ id: `wamid.C${m}`, status: s, timestamp: String(1750000000 + i), recipient_id: "16505551234" }));
  // Arrival order scrambled, as Meta's is: a read may come before its sent.
  jobs.sort((a, b) => hash(JSON.stringify(a)) - hash(JSON.stringify(b)));
  await instances[0]!.postMany(jobs);
  await Promise.all(instances.map(async (p) => void (await drain(p.processor))));

  const rows = await sql`SELECT status, count(*)::int AS n FROM outbound_messages GROUP BY status`;
  expect([...rows]).toEqual([{ status: "read", n: 40 }]);
  expect(await instances[0]!.count("SELECT count(*) n FROM message_statuses")).toBe(120);
  expect(await instances[0]!.count("SELECT count(*) n FROM events")).toBe(120);
  const [{ at }] = await sql`SELECT count(DISTINCT status_at)::int AS at FROM outbound_messages`;
  expect(at).toBe(1); // each message's time is its read's, whatever order the instances took them in
});

test("an instance whose lease ran out cannot finish the jobs another instance took over: its commit writes nothing", async () => {
  const { sql } = await migratedDatabase();
  const p = await postgresPipeline(sql, hooks);
  await p.postMany(fixtureCorpus().slice(0, 3));
  const slow = postgresProcessing(sql);
  const now = p.clock.now();
  const mine = await slow.claim("wa-slow:1", now + 1_000, now, 10);
  expect(mine).toHaveLength(3);
  p.clock.advance(1_001); // the slow instance paused past its lease
  expect((await p.processor.runOnce()).jobs).toBe(3);
  const events = await p.count("SELECT count(*) n FROM events");
  expect(events).toBeGreaterThan(0);

  const late = await slow.commit({ token: "wa-slow:1", now: p.clock.now(), jobs: mine.map((j) => j.id), keys: [], wamids: [], notices: [], identities: [] }, (snapshot) => {
    expect(snapshot.held.size).toBe(0);
    return { writes: { events: [], deliveries: [], statuses: [], inbound: [], contacts: [], templates: [], notices: [], identities: [], tallies: [], done: [...mine.map((j) => j.id)], progress: [], clearProgress: [], dead: [] } };
  });
  expect(late.writes.done).toHaveLength(3);
  // Its finish carried the old token: refused row by row.
  expect(await p.count("SELECT count(*) n FROM inbox WHERE lease_token = 'wa-slow:1'")).toBe(0);
  expect(await slow.fail(mine[0]!.id, "wa-slow:1", "dead", "late", p.clock.now())).toBe(false);
  expect(await slow.extend(mine[0]!.id, "wa-slow:1", p.clock.now() + 60_000)).toBe(false);
  expect(await p.count("SELECT count(*) n FROM inbox WHERE state = 'done' AND attempts = 2")).toBe(3);
  expect(await p.count("SELECT count(*) n FROM events")).toBe(events);
});

test("jobs an instance leased before it died go back to the queue when it starts again, or when the lease ends for the others", async () => {
  const { sql } = await migratedDatabase();
  const p = await postgresPipeline(sql, hooks, { instance: "wa-2" });
  await p.postMany(fixtureCorpus().slice(0, 4));
  const dead = postgresProcessing(sql);
  const now = p.clock.now();
  await dead.claim("wa-1:run", now + 60_000, now, 2);
  expect(await dead.recoverLeases("wa-1")).toBe(2);
  await dead.claim("wa-1:run2", now + 60_000, now, 2);
  expect(await p.processor.backlogAgeMs(now + 5)).toBe(5);
  expect((await p.processor.runOnce()).jobs).toBe(2); // the two still leased to wa-1 are skipped
  p.clock.advance(60_001);
  expect((await p.processor.runOnce()).jobs).toBe(2);
  expect(await p.count("SELECT count(*) n FROM inbox WHERE state = 'done'")).toBe(4);
  expect(await p.processor.backlogAgeMs(p.clock.now())).toBe(0);
});

async function drain(processor: { runOnce(): Promise<{ jobs: number }> }) {
  let passes = 0;
  while ((await processor.runOnce()).jobs > 0) passes++;
  return passes;
}

function hash(s: string) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

test("a signed body whose parse error quotes a NUL byte is dead-lettered beside its batch, not a failed pass (PostgreSQL text holds no NUL)", async () => {
  // Found by the fuzz case of the reliability suite on PostgreSQL: the dead letter's last_error could not be written,
  // the pass threw, and the batch stayed leased until worker.lease ran out, again and again.
  const { sql } = await migratedDatabase();
  const p = await postgresPipeline(sql);
  await p.post(new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x00, 0x7d])); // {"a":<NUL>}
  await p.post(statusesPayload({ id: "wamid.BESIDE", status: "sent", timestamp: "1750000000", recipient_id: "16505551234" }));
  expect((await p.processor.runOnce()).jobs).toBe(2);
  const rows = [...(await sql`SELECT id::int AS id, state, last_error FROM inbox ORDER BY id`)];
  expect(rows.map((r) => [r.id, r.state])).toEqual([[1, "dead"], [2, "done"]]);
  expect(rows[0].last_error).toContain("\\u0000");
});

test("rows of a webhook's items say when it arrived, not when it was processed: message statuses, inbound messages, notice history (both engines)", async () => {
  const bodies = ["message_text", "status_delivered", "template_status_paused"].map((name) => fixture(name).payload);
  const receivedAt = async (count: (sql: string) => number | Promise<number>) => ({
    statuses: await count("SELECT count(*) n FROM message_statuses WHERE received_at = (SELECT max(received_at) FROM inbox)"),
    inbound: await count("SELECT count(*) n FROM inbound_messages WHERE received_at = (SELECT max(received_at) FROM inbox)"),
    history: await count("SELECT count(*) n FROM state_history WHERE received_at = (SELECT max(received_at) FROM inbox)"),
  });
  const clock = new TestClock();
  const sqlite = pipeline(hooks, { clock });
  for (const body of bodies) sqlite.post(body);
  clock.advance(5_000); // a backlog: processed five seconds after it arrived
  while ((await sqlite.processor.runOnce()).jobs > 0);
  expect(await receivedAt((q) => sqlite.count(q))).toEqual({ statuses: 1, inbound: 1, history: 2 }); // the template's status, the sender's profile name

  const pgClock = new TestClock();
  const pg = await postgresPipeline((await migratedDatabase()).sql, hooks, { clock: pgClock });
  for (const body of bodies) await pg.post(body);
  pgClock.advance(5_000);
  while ((await pg.processor.runOnce()).jobs > 0);
  expect(await receivedAt((q) => pg.count(q))).toEqual({ statuses: 1, inbound: 1, history: 2 });
});
