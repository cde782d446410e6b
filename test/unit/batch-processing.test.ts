/**
 * Set-based processing on a real SQLite file: a batch decides exactly what the same
 * webhooks one at a time would (statuses of one message, notices by Meta's clock, a
 * profile name repeated, a retry inside the batch), a job whose rows cannot be written
 * fails alone, and processing commits skip their fsync while the connection stays FULL.
 */
import { expect, test } from "bun:test";
import { sqliteInbox } from "../../src/store/inbox-store";
import { openDatabase } from "../../src/store/db";
import { sqliteProcessing } from "../../src/store/processing-engine";
import { durability } from "../../src/store/durability";
import { sqliteDispatch } from "../../src/store/dispatch-engine";
import { toStorageError } from "../../src/store/errors";
import { fixture, fixtureCorpus, hook, pipeline, TestClock, type Database } from "../support/pipeline";
import { Database as SqliteDatabase } from "bun:sqlite";

const STATE_TABLES = [
  "SELECT wamid, recipient_id, status, status_at, errors, pricing FROM outbound_messages ORDER BY wamid",
  "SELECT wamid, status, status_at, errors, pricing FROM message_statuses ORDER BY wamid, id",
  "SELECT subject, subject_id, attribute, value, at FROM state_values ORDER BY 1, 2, 3",
  "SELECT subject, subject_id, attribute, value, at, applied FROM state_history ORDER BY received_at, event_id",
  "SELECT wa_id, profile_name, last_seen_at, marketing_opt_out FROM contacts ORDER BY wa_id",
  "SELECT template_id, name, language, status, quality, category FROM templates ORDER BY template_id",
  "SELECT wamid, sender, kind FROM inbound_messages ORDER BY wamid",
  "SELECT key, duplicates FROM dedup_keys ORDER BY key",
  "SELECT type, wamid, wa_id, json_extract(envelope, '$.data') data FROM events ORDER BY id",
  "SELECT kind, key, sum(n) n FROM stats_by_minute GROUP BY 1, 2 ORDER BY 1, 2",
];


function state(p: ReturnType<typeof pipeline>) {
  return STATE_TABLES.map((sql) => p.db.query(sql).all());
}

test("one batch decides exactly what the same webhooks one at a time decide", async () => {
  const together = pipeline([hook({ name: "app", url: "http://127.0.0.1:9/" })]);
  const alone = pipeline([hook({ name: "app", url: "http://127.0.0.1:9/" })]);
  for (const body of fixtureCorpus()) {
    together.post(body);
    alone.post(body);
  }
  expect((await together.processor.runOnce(10_000)).jobs).toBe(fixtureCorpus().length);
  while ((await alone.processor.runOnce(1)).jobs > 0);
  expect(state(together)).toEqual(state(alone));
  expect(together.count("SELECT count(*) n FROM deliveries")).toBe(alone.count("SELECT count(*) n FROM deliveries"));
  expect(together.count("SELECT count(*) n FROM inbox WHERE state = 'done'")).toBe(fixtureCorpus().length);
});

test("a retry inside the batch is one event and one counted duplicate", async () => {
  const p = pipeline();
  const body = fixture("message_text").payload;
  p.post(body);
  p.post(body);
  p.post(body);
  expect(await p.processor.runOnce()).toMatchObject({ jobs: 3, events: 1, duplicates: 2 });
  expect(p.count("SELECT duplicates n FROM dedup_keys")).toBe(2);
});

test("a job whose rows cannot be written fails alone: its siblings are stored, it is retried, then dead", async () => {
  const p = pipeline([], { maxAttempts: 2 });
  // A storage-side failure for one message only (a constraint, a full disk on its page…).
  p.db.run("CREATE TRIGGER poison BEFORE INSERT ON events WHEN new.wamid = 'wamid.POISON' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END");
  const text = JSON.stringify(fixture("message_text").payload);
  const ids = ["wamid.A", "wamid.POISON", "wamid.B"].map((w) => p.post(JSON.parse(text.replace("wamid.TEXT", w))));
  expect(await p.processor.runOnce()).toMatchObject({ jobs: 3, events: 2, dead: 0 });
  const row = (id: number) => p.db.query("SELECT state, attempts, last_error FROM inbox WHERE id = ?").get(id);
  expect(row(ids[0]!)).toMatchObject({ state: "done" });
  expect(row(ids[1]!)).toEqual({ state: "pending", attempts: 1, last_error: "poisoned row" });
  expect(row(ids[2]!)).toMatchObject({ state: "done" });
  expect(await p.processor.runOnce()).toMatchObject({ jobs: 1, events: 0, dead: 1 });
  expect(row(ids[1]!)).toEqual({ state: "dead", attempts: 2, last_error: "poisoned row" });
  expect(p.count("SELECT count(*) n FROM events")).toBe(2);
});

test("processing commits skip their fsync (NORMAL); the connection stays FULL for everything else", () => {
  const p = pipeline([], { open: (path) => openDatabase(path, { synchronous: "full", busyTimeoutMs: 2000, autoCheckpoint: true }) });
  const synchronous = () => (p.db.query("PRAGMA synchronous").get() as { synchronous: number }).synchronous;
  expect(synchronous()).toBe(2);
  const engine = sqliteProcessing(p.db);
  const during: number[] = [];
  const plan = () => ({ writes: { events: [], deliveries: [], statuses: [], inbound: [], contacts: [], templates: [], notices: [], identities: [], tallies: [], done: [], progress: [], clearProgress: [], dead: [] } });
  engine.commit({ token: "t", now: 1, jobs: [], keys: [], wamids: [], notices: [], identities: [] }, plan, () => during.push(synchronous()));
  expect(during).toEqual([1]);
  expect(synchronous()).toBe(2);
  // A failing commit puts it back too.
  expect(() => engine.commit({ token: "t", now: 1, jobs: [], keys: [], wamids: [], notices: [], identities: [] }, () => { throw new Error("bug"); })).toThrow("bug");
  expect(synchronous()).toBe(2);
});

test("before anything is sent, one commit fsyncs (FULL) only if a relaxed commit (indexing, processing) is not on disk yet", async () => {
  const p = pipeline([], { open: (path) => openDatabase(path, { synchronous: "full", busyTimeoutMs: 2000, autoCheckpoint: true }) });
  const synchronous = () => (p.db.query("PRAGMA synchronous").get() as { synchronous: number }).synchronous;
  const d = durability(p.db);
  expect(d.beforeSending(synchronous)).toBe(1); // nothing relaxed yet: the claim itself may be lost
  p.post(fixture("message_text").payload);
  await p.processor.runOnce(); // processing commits relaxed
  expect(d.beforeSending(synchronous)).toBe(2); // so the claim before a POST fsyncs
  expect(d.beforeSending(synchronous)).toBe(1); // and once on disk, the next need not
  p.post(fixture("message_text").payload); // indexing a webhook the log holds: relaxed too
  expect(d.beforeSending(synchronous)).toBe(2);
  expect(d.beforeSending(synchronous)).toBe(1);
  expect(synchronous()).toBe(2);
});

test("how far the index is durable: one fsync'd commit when an index commit is owed, none at all when nothing is (an idle daemon takes no write lock each second)", () => {
  const p = pipeline([], { open: (path) => openDatabase(path, { synchronous: "full", busyTimeoutMs: 200, autoCheckpoint: false }) });
  const inbox = sqliteInbox(p.db);
  p.post(fixture("message_text").payload); // indexed relaxed: owed
  expect(durability(p.db).owed()).toBe(true);
  expect(inbox.durableThrough()).toBe(1);
  expect(durability(p.db).owed()).toBe(false);
  // Another connection holds the write lock: nothing owed, so nothing waits for it.
  const other = new SqliteDatabase(p.path);
  other.run("BEGIN IMMEDIATE");
  try {
    // Without the check this waits out the busy timeout and throws "busy".
    for (let i = 0; i < 5; i++) expect(inbox.durableThrough()).toBe(1);
  } finally {
    other.run("ROLLBACK");
    other.close();
  }
});

test("settle puts relaxed commits on disk off the thread; a commit made while it runs stays pending, and an fsync'd commit meanwhile still fsyncs", async () => {
  const p = pipeline([], { open: (path) => openDatabase(path, { synchronous: "full", busyTimeoutMs: 2000, autoCheckpoint: true }) });
  const synchronous = () => (p.db.query("PRAGMA synchronous").get() as { synchronous: number }).synchronous;
  const d = durability(p.db);
  expect(await d.settle(() => "mark")).toBeNull(); // nothing relaxed: nothing to wait for
  p.post(fixture("message_text").payload); // indexed relaxed
  const settling = d.settle(() => "mark");
  p.post(fixture("message_text").payload); // committed while the fdatasync runs
  expect(d.beforeSending(synchronous)).toBe(2); // the sync in flight does not count yet
  expect(await settling).toBe("mark");
  p.post(fixture("message_text").payload);
  const again = d.settle(() => 1);
  p.post(fixture("message_text").payload);
  expect(await again).toBe(1);
  expect(d.beforeSending(synchronous)).toBe(2); // the second post came after the sync began
  expect(d.beforeSending(synchronous)).toBe(1);
  expect(await d.settle(() => 1)).toBeNull();
  expect(synchronous()).toBe(2);
});

test("a dispatch turn claims only deliveries whose commit is on disk: one stored while its sync runs waits for the next turn", async () => {
  const p = pipeline([hook({ name: "app", url: "http://127.0.0.1:9/" })], { open: (path) => openDatabase(path, { synchronous: "full", busyTimeoutMs: 2000, autoCheckpoint: true }) });
  const engine = sqliteDispatch(p.db);
  const claim = () => engine.turn([], [{ hook: "app", token: "t", leaseUntil: p.clock.now() + 60_000, limit: 10 }], p.clock.now());
  const text = JSON.stringify(fixture("message_text").payload);
  p.post(JSON.parse(text.replace("wamid.TEXT", "wamid.FIRST")));
  await p.processor.runOnce(); // its delivery is committed relaxed
  const turn = claim(); // syncs the WAL: the first delivery is on disk once it answers
  p.post(JSON.parse(text.replace("wamid.TEXT", "wamid.SECOND")));
  await p.processor.runOnce(); // stored while that sync runs
  const envelopes = (claimed: { envelope: string }[]) => claimed.map((c) => JSON.parse(c.envelope).data.wamid);
  expect(envelopes((await turn).claimed[0]!)).toEqual(["wamid.FIRST"]);
  expect(envelopes((await claim()).claimed[0]!)).toEqual(["wamid.SECOND"]);
});

test("a lock held elsewhere while a batch commits is nobody's fault: the pass fails as storage trouble, no job is failed or counted, and the batch is processed once, as soon as storage is back", async () => {
  const clock = new LockingClock();
  const p = pipeline([], { clock, open: (path) => openDatabase(path, { synchronous: "normal", busyTimeoutMs: 20, autoCheckpoint: true }) });
  const text = JSON.stringify(fixture("message_text").payload);
  for (const w of ["wamid.L1", "wamid.L2", "wamid.L3"]) p.post(JSON.parse(text.replace("wamid.TEXT", w)));
  clock.lockOnceClaimed(p.path);
  let thrown: unknown = null;
  try {
    await p.processor.runOnce();
  } catch (err) {
    thrown = err;
  }
  expect(toStorageError(thrown).kind).toBe("busy");
  clock.unlock();
  // Untouched: no last_error, no attempt beyond the claim's, nothing stored.
  const jobs = () => p.db.query("SELECT state, attempts, last_error FROM inbox ORDER BY id").all();
  expect(jobs()).toEqual(Array(3).fill({ state: "processing", attempts: 1, last_error: null }));
  expect(p.count("SELECT count(*) n FROM events")).toBe(0);
  // The release met the same lock: the next pass gives them back first (no wait for worker.lease, the attempt not counted).
  expect(await p.processor.runOnce()).toMatchObject({ released: 3, jobs: 3, events: 3, dead: 0 });
  expect(p.count("SELECT count(*) n FROM events")).toBe(3);
  expect(p.count("SELECT count(*) n FROM inbox WHERE state = 'done' AND last_error IS NULL AND attempts = 1")).toBe(3);
});

test("a lock held elsewhere when a pass out of time gives its unreached jobs back: they wait for the lock, not for worker.lease", async () => {
  const clock = new LockingClock();
  const p = pipeline([], { clock, passBudgetMs: 0, open: (path) => openDatabase(path, { synchronous: "normal", busyTimeoutMs: 20, autoCheckpoint: true }) });
  const text = JSON.stringify(fixture("message_text").payload);
  for (const w of ["wamid.R1", "wamid.R2", "wamid.R3"]) p.post(JSON.parse(text.replace("wamid.TEXT", w)));
  clock.lockOnceClaimed(p.path);
  await p.processor.runOnce().catch((err) => expect(toStorageError(err).kind).toBe("busy"));
  clock.unlock();
  // No clock advance: a job still leased here would wait out worker.lease (60 s).
  for (let pass = 0; pass < 10 && p.count("SELECT count(*) n FROM inbox WHERE state <> 'done'") > 0; pass++) await p.processor.runOnce();
  expect(p.db.query("SELECT state, attempts FROM inbox ORDER BY id").all()).toEqual(Array(3).fill({ state: "done", attempts: 1 }));
  expect(p.count("SELECT count(*) n FROM events")).toBe(3);
});

/** Takes the write lock from another connection the first time it is read after a claim committed: between the claim and the batch's commit. */
class LockingClock extends TestClock {
  #other: Database | null = null;
  #locked = false;
  lockOnceClaimed(path: string) {
    this.#other = openDatabase(path, { synchronous: "normal", busyTimeoutMs: 0, autoCheckpoint: true });
  }
  unlock() {
    this.#other?.run("COMMIT");
    this.#other?.close();
    this.#other = null;
  }
  override now = () => {
    const other = this.#other;
    if (other && !this.#locked && (other.query("SELECT count(*) n FROM inbox WHERE state = 'processing'").get() as { n: number }).n > 0) {
      other.run("BEGIN IMMEDIATE");
      this.#locked = true;
    }
    return this.t;
  };
}
