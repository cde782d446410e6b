import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { openDatabase, readPragmas } from "../../src/store/db";
import { migrate, MigrationError, schemaVersion } from "../../src/store/migrate";
import { LATEST_VERSION, MIGRATIONS } from "../../src/store/migrations";
import { tempDir } from "../support/daemon";

const open = (path: string) => openDatabase(path, { synchronous: "full", busyTimeoutMs: 1000, autoCheckpoint: false });

test("every file in migrations/ is embedded, numbered in order", () => {
  const files = readdirSync(join(import.meta.dir, "../../migrations")).filter((f) => f.endsWith(".sql")).sort();
  expect(MIGRATIONS.map((m) => m.name)).toEqual(files);
  expect(MIGRATIONS.map((m) => m.version)).toEqual(files.map((f) => Number(f.slice(0, 4))));
});

test("applies all migrations once, records them, and is idempotent", () => {
  const db = open(join(tempDir(), "m.db"));
  expect(migrate(db)).toEqual({ from: 0, to: LATEST_VERSION, applied: MIGRATIONS.map((m) => m.name) });
  expect(migrate(db)).toEqual({ from: LATEST_VERSION, to: LATEST_VERSION, applied: [] });
  expect(schemaVersion(db)).toBe(LATEST_VERSION);
  expect(db.query("SELECT name FROM sqlite_master WHERE name = 'inbox'").get()).toEqual({ name: "inbox" });
  expect(readPragmas(db)).toEqual({ journal_mode: "wal", synchronous: "full" });
  db.close();
});

test("a failing migration leaves nothing half-applied", () => {
  const db = open(join(tempDir(), "m.db"));
  migrate(db);
  const broken = [...MIGRATIONS, { version: LATEST_VERSION + 1, name: "broken.sql", sql: "CREATE TABLE t1 (x); CREATE TABLE nope (" }];
  expect(() => migrate(db, broken)).toThrow();
  expect(schemaVersion(db)).toBe(LATEST_VERSION);
  expect(db.query("SELECT name FROM sqlite_master WHERE name = 't1'").get()).toBeNull();
  db.close();
});

test("refuses a database written by a newer binary", () => {
  const path = join(tempDir(), "m.db");
  const db = open(path);
  migrate(db);
  db.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future.sql', 'later')", [LATEST_VERSION + 1]);
  expect(() => migrate(db)).toThrow(MigrationError);
  expect(() => migrate(db)).toThrow(/newer than this binary supports/);
  db.close();
  // and the file is untouched by the refusal
  const check = new Database(path, { readonly: true });
  expect(check.query("SELECT max(version) AS v FROM schema_migrations").get()).toEqual({ v: LATEST_VERSION + 1 });
  check.close();
});

test("0003 moves every inbox body, byte for byte, into inbox_bodies", () => {
  const db = open(join(tempDir(), "m.db"));
  migrate(db, MIGRATIONS.filter((m) => m.version <= 2));
  const bodies = [new Uint8Array([0x7b, 0xff, 0x00, 0x7d]), new TextEncoder().encode('{"entry":[]}')];
  const insert = db.prepare("INSERT INTO inbox (received_at, body, signature, parseable) VALUES (1, ?, 's', 0)");
  for (const b of bodies) insert.run(b);
  expect(migrate(db).applied).toEqual(MIGRATIONS.filter((m) => m.version > 2).map((m) => m.name));
  const rows = db.query<{ id: number; body: Uint8Array }, []>("SELECT id, body FROM inbox JOIN inbox_bodies ON inbox_id = id ORDER BY id").all();
  expect(rows.map((r) => [...r.body])).toEqual(bodies.map((b) => [...b]));
  expect(db.query("SELECT name FROM pragma_table_info('inbox') WHERE name = 'body'").all()).toEqual([]);
  db.close();
});

test("0010 counts the open rows a database already holds, then keeps counting", () => {
  const db = open(join(tempDir(), "m.db"));
  migrate(db, MIGRATIONS.filter((m) => m.version <= 9));
  db.run("INSERT INTO inbox (id, received_at, signature, parseable, state) VALUES (1, 1, 's', 1, 'done'), (2, 1, 's', 1, 'pending'), (3, 1, 's', 0, 'dead')");
  db.run("INSERT INTO events (id, inbox_id, type, received_at, dedup_key, envelope) VALUES ('evt_A', 1, 'message.status', 1, 'k', '{}')");
  db.run("INSERT INTO deliveries (event_id, hook, state, next_attempt_at, created_at, updated_at) VALUES ('evt_A', 'a', 'pending', 1, 5, 1), ('evt_A', 'b', 'done', 1, 1, 1)");
  db.run("INSERT INTO tracked_messages (wamid, state, created_at, updated_at) VALUES ('w1', 'tracked', 1, 1), ('w2', 'done', 1, 1)");
  migrate(db);
  const counts = (table: string) => db.query(`SELECT * FROM ${table} ORDER BY 1, 2`).all();
  expect([counts("inbox_counts"), counts("delivery_counts"), counts("tracked_counts")]).toEqual([
    [{ state: "dead", n: 1 }, { state: "pending", n: 1 }],
    [{ hook: "a", state: "pending", n: 1 }],
    [{ state: "tracked", n: 1 }],
  ]);
  expect(db.query("SELECT min(created_at) at FROM deliveries INDEXED BY deliveries_open_by_age WHERE hook = 'a' AND state IN ('pending', 'delivering')").get()).toEqual({ at: 5 });
  db.run("UPDATE inbox SET state = 'done' WHERE id = 2");
  db.run("UPDATE deliveries SET state = 'done' WHERE hook = 'a'");
  expect([counts("inbox_counts"), counts("delivery_counts")]).toEqual([[{ state: "dead", n: 1 }, { state: "pending", n: 0 }], [{ hook: "a", state: "pending", n: 0 }]]);
  db.close();
});

test("0005 and 0006 rebuild state_history and events keeping every row, their deliveries and foreign keys on", () => {
  const db = open(join(tempDir(), "m.db"));
  migrate(db, MIGRATIONS.filter((m) => m.version <= 4));
  db.run("INSERT INTO inbox (id, received_at, signature, parseable) VALUES (7, 1, 's', 1)");
  db.run("INSERT INTO events (id, inbox_id, type, received_at, dedup_key, envelope) VALUES ('evt_A', 7, 'message.status', 1, 'k', '{}')");
  db.run("INSERT INTO deliveries (event_id, hook, next_attempt_at, created_at, updated_at) VALUES ('evt_A', 'app', 1, 1, 1)");
  db.run("INSERT INTO state_history (subject, subject_id, attribute, value, at, applied, event_id, received_at) VALUES ('template', 't1', 'status', 'PAUSED', 5, 1, 'evt_A', 1)");
  expect(migrate(db).applied).toEqual(MIGRATIONS.filter((m) => m.version > 4).map((m) => m.name));
  expect(db.query("SELECT id, inbox_id FROM events").all()).toEqual([{ id: "evt_A", inbox_id: 7 }]);
  expect(db.query("SELECT event_id, hook FROM deliveries").all()).toEqual([{ event_id: "evt_A", hook: "app" }]);
  expect(db.query("SELECT value, applied, event_id FROM state_history").all()).toEqual([{ value: "PAUSED", applied: 1, event_id: "evt_A" }]);
  expect(db.query("PRAGMA foreign_key_check").all()).toEqual([]);
  expect(db.query<{ foreign_keys: number }, []>("PRAGMA foreign_keys").get()!.foreign_keys).toBe(1);
  // Events the daemon raises itself have no inbox row.
  db.run("INSERT INTO events (id, inbox_id, type, received_at, dedup_key, envelope) VALUES ('evt_B', NULL, 'message.stale', 2, 'k2', '{}')");
  // And a delivery still needs its event.
  expect(() => db.run("INSERT INTO deliveries (event_id, hook, next_attempt_at, created_at, updated_at) VALUES ('evt_missing', 'app', 1, 1, 1)")).toThrow();
  db.close();
});
