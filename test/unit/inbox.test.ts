/** Group commit through the real writer thread on a real SQLite file. */
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Inbox } from "../../src/ingest/inbox";
import { openDatabase } from "../../src/store/db";
import { StorageError } from "../../src/store/errors";
import { migrate } from "../../src/store/migrate";
import type { InboxRecord, InboxStore } from "../../src/store/types";
import { WriterThread } from "../../src/writer/client";
import { systemClock } from "../../src/util/clock";
import { createLogger } from "../../src/util/log";
import { readInbox, tempDir } from "../support/daemon";

const log = createLogger("error", () => {});
const writers: WriterThread[] = [];
afterEach(async () => {
  for (const w of writers.splice(0)) await w.close();
});

async function setup(lockTimeoutMs = 2000) {
  const path = join(tempDir(), "inbox.db");
  const db = openDatabase(path, { synchronous: "full", busyTimeoutMs: 1000, autoCheckpoint: true });
  migrate(db);
  db.close();
  const writer = await WriterThread.start({ path, synchronous: "full", busyTimeoutMs: 20, logLevel: "error", redactKey: null, trafficIntervalMs: 10_000, hooks: [], worker: null }, log);
  writers.push(writer);
  // Counts the transactions the real store commits; the store itself is untouched.
  const commits: number[] = [];
  const counting: InboxStore = {
    appendBatch: async (records) => {
      const ids = await writer.appendBatch(records);
      commits.push(records.length);
      return ids;
    },
  };
  const inbox = new Inbox(counting, { lockTimeoutMs, clock: systemClock, log, busyRetryMs: 5 });
  return { path, writer, inbox, commits };
}

const record = (text: string): InboxRecord => ({
  body: new TextEncoder().encode(text),
  signature: "sha256=" + "0".repeat(64),
  userAgent: "facebookexternalua",
  remoteAddr: "127.0.0.1",
  forwardedFor: null,
  receivedAt: Date.now(),
});

describe("Inbox group commit", () => {
  test("concurrent appends share transactions and every row is stored byte-exact", async () => {
    const { path, inbox, commits } = await setup();
    const bodies = Array.from({ length: 500 }, (_, i) => JSON.stringify({ n: i, text: "caf\u00e9 \u{1F600}" }));
    const ids = await Promise.all(bodies.map((b) => inbox.append(record(b))));
    expect(new Set(ids).size).toBe(500);
    expect(commits.reduce((a, b) => a + b, 0)).toBe(500);
    expect(commits.length).toBeLessThan(50); // far fewer transactions than rows
    const rows = readInbox(path);
    const byId = new Map(rows.map((r) => [r.id, new TextDecoder().decode(r.body)]));
    ids.forEach((id, i) => expect(byId.get(id)).toBe(bodies[i]!));
    expect(rows.every((r) => r.parseable === 1)).toBe(true);
  });

  test("a body that is not JSON is stored and flagged unparseable", async () => {
    const { path, inbox } = await setup();
    const [a, b, c] = await Promise.all([inbox.append(record("not json {")), inbox.append(record("")), inbox.append(record("[1]"))]);
    const flags = new Map(readInbox(path).map((r) => [r.id, r.parseable]));
    expect([flags.get(a!), flags.get(b!), flags.get(c!)]).toEqual([0, 0, 1]);
  });

  test("append resolves only after its row is committed and visible to another connection", async () => {
    const { path, inbox } = await setup();
    const id = await inbox.append(record('{"x":1}'));
    const db = new Database(path, { readonly: true });
    expect(db.query("SELECT id FROM inbox WHERE id = ?").get(id)).toEqual({ id });
    db.close();
  });

  test("waits for a briefly held write lock, then commits", async () => {
    const { path, inbox } = await setup(2000);
    const other = new Database(path);
    other.run("BEGIN IMMEDIATE");
    const pending = inbox.append(record('{"waited":true}'));
    await Bun.sleep(150);
    other.run("COMMIT");
    other.close();
    expect(await pending).toBeGreaterThan(0);
  });

  test("a lock held past lock_timeout fails with a busy StorageError, then recovers", async () => {
    const { path, inbox } = await setup(300);
    const other = new Database(path);
    other.run("BEGIN IMMEDIATE");
    const started = Date.now();
    const error = await inbox.append(record('{"late":true}')).catch((e) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).kind).toBe("busy");
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    other.run("ROLLBACK");
    other.close();
    expect(await inbox.append(record('{"after":true}'))).toBeGreaterThan(0);
    expect(readInbox(path).map((r) => new TextDecoder().decode(r.body))).toEqual(['{"after":true}']);
  });

  test("readiness waits briefly for a lock held elsewhere, and says so when it is held too long", async () => {
    const { path, writer } = await setup();
    expect(await writer.probe()).toEqual({ ready: true });
    const other = new Database(path);
    other.run("BEGIN IMMEDIATE");
    const briefly = writer.probe();
    await Bun.sleep(150);
    other.run("COMMIT");
    expect(await briefly).toEqual({ ready: true });
    other.run("BEGIN IMMEDIATE");
    const held = await writer.probe();
    other.run("ROLLBACK");
    other.close();
    expect(held.ready).toBe(false);
    expect(!held.ready && held.reason).toStartWith("storage busy:");
  });

  test("drain waits for in-flight commits", async () => {
    const { path, inbox } = await setup();
    const all = Array.from({ length: 50 }, (_, i) => inbox.append(record(`{"i":${i}}`)));
    await inbox.drain();
    expect(inbox.pending).toBe(0);
    expect(readInbox(path)).toHaveLength(50);
    await Promise.all(all);
  });
});
