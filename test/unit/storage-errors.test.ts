/**
 * What an admin call's failure means (store/errors.ts): storage trouble answers 503 (retry),
 * anything else thrown is a bug and answers 500 (a retry would meet it again). The errors
 * here are real: SQLite's own from a real file, JavaScript's own from real mistakes.
 * The 503 end to end on the binary: test/e2e/storage-failure.test.ts ("admin calls: …"); no bug
 * is reachable from outside any more, so the 500 is checked on a real writer thread below.
 */
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { join } from "node:path";
import { InternalError, isStorageFailure, StorageError } from "../../src/store/errors";
import { openDatabase } from "../../src/store/db";
import { migrate } from "../../src/store/migrate";
import { WriterThread } from "../../src/writer/client";
import { createLogger } from "../../src/util/log";
import { tempDir } from "../support/daemon";

const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error("did not throw");
};

/** A real file with a table, a second connection, and a read-only one. */
function files() {
  const path = join(tempDir(), "wa.db");
  const holder = new Database(path);
  holder.run("CREATE TABLE t (id INTEGER PRIMARY KEY)");
  holder.run("INSERT INTO t VALUES (1)");
  const other = new Database(path);
  other.run("PRAGMA busy_timeout = 0");
  const readonly = new Database(path, { readonly: true });
  return { holder, other, readonly, close: () => [holder, other, readonly].forEach((d) => d.close()) };
}

test("storage trouble: ours, and SQLite saying the file is locked or read-only (also full, failing, corrupt)", () => {
  const f = files();
  f.holder.run("BEGIN IMMEDIATE");
  const busy = thrown(() => f.other.run("INSERT INTO t VALUES (2)"));
  f.holder.run("ROLLBACK");
  const readonly = thrown(() => f.readonly.run("INSERT INTO t VALUES (3)"));
  f.close();
  expect([busy, readonly].map((e) => (e as { code: string }).code)).toEqual(["SQLITE_BUSY", "SQLITE_READONLY"]);
  for (const err of [busy, readonly, new StorageError("gone", "database file was deleted while open")]) expect(isStorageFailure(err)).toBe(true);
});

test("a bug is not storage trouble: a TypeError, an invalid date, a blown stack, a constraint our SQL broke, anything thrown that is not an Error", () => {
  const f = files();
  const constraint = thrown(() => f.holder.run("INSERT INTO t VALUES (1)"));
  const syntax = thrown(() => f.holder.run("SELEC 1"));
  f.close();
  expect([constraint, syntax].map((e) => (e as { code: string }).code)).toEqual(["SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_ERROR"]);
  const bugs = [
    constraint,
    syntax,
    thrown(() => (null as unknown as { x: number }).x),
    thrown(() => new Date(9e15).toISOString()),
    thrown(() => JSON.stringify(JSON.parse('{"a":'.repeat(100_000) + "1" + "}".repeat(100_000)))),
    Object.assign(new Error("not ours"), { code: "ENOENT" }),
    "a string",
    null,
  ];
  expect(bugs.slice(2, 5).map((e) => (e as Error).name)).toEqual(["TypeError", "RangeError", "RangeError"]);
  for (const err of bugs) expect(isStorageFailure(err)).toBe(false);
});

test("the writer thread answers a bug in an admin call as InternalError (→ 500), and serves the next call", async () => {
  const path = join(tempDir(), "wa.db");
  const db = openDatabase(path, { synchronous: "full", busyTimeoutMs: 1000, autoCheckpoint: true });
  migrate(db);
  db.close();
  const writer = await WriterThread.start({ path, synchronous: "full", busyTimeoutMs: 50, logLevel: "error", redactKey: null, trafficIntervalMs: 60_000, hooks: [], worker: null, logEnd: 0 }, createLogger("error", () => {}));
  try {
    // The HTTP routes validate every query before relaying; a malformed one reaching the thread is a bug.
    const err = await writer.admin({ op: "events", query: null as never }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(InternalError);
    expect(await writer.admin({ op: "events", query: { limit: 10 } })).toMatchObject({ status: 200 });
  } finally {
    await writer.close();
  }
});
