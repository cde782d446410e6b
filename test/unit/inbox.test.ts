/**
 * Group commit into the segment log, indexed by the real writer thread into a real
 * SQLite file: acknowledged once the log holds it, in SQLite moments later, never
 * waiting for SQLite's write lock.
 */
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Inbox } from "../../src/ingest/inbox";
import { LogStore } from "../../src/ingest/log-store";
import { openDatabase } from "../../src/store/db";
import { StorageError } from "../../src/store/errors";
import { migrate } from "../../src/store/migrate";
import { framesAfter, SegmentLog, segmentsDir } from "../../src/store/segment-log";
import type { InboxRecord, InboxStore } from "../../src/store/types";
import { WriterThread } from "../../src/writer/client";
import { systemClock } from "../../src/util/clock";
import { createLogger } from "../../src/util/log";
import { readInbox, tempDir, waitFor } from "../support/daemon";

const log = createLogger("error", () => {});
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function setup() {
  const path = join(tempDir(), "inbox.db");
  const db = openDatabase(path, { synchronous: "full", busyTimeoutMs: 1000, autoCheckpoint: true });
  migrate(db);
  db.close();
  const segments = await SegmentLog.open(segmentsDir(path), { synchronous: "full", minNextId: 1 });
  const writer = await WriterThread.start({ path, synchronous: "full", busyTimeoutMs: 20, logLevel: "error", redactKey: null, trafficIntervalMs: 10_000, hooks: [], worker: null, logEnd: segments.nextId - 1 }, log);
  closers.push(async () => {
    await writer.close();
    await segments.close();
  });
  const store = new LogStore(segments, writer);
  // Counts the log writes the real store makes; the store itself is untouched.
  const commits: number[] = [];
  const counting: InboxStore = {
    appendBatch: async (records) => {
      const ids = await store.appendBatch(records);
      commits.push(records.length);
      return ids;
    },
  };
  const inbox = new Inbox(counting, { lockTimeoutMs: 2000, clock: systemClock, log, busyRetryMs: 5 });
  const indexed = (n: number) => waitFor(() => readInbox(path).length === n);
  return { path, writer, store, inbox, commits, indexed };
}

const record = (text: string): InboxRecord => ({
  body: new TextEncoder().encode(text),
  signature: "sha256=" + "0".repeat(64),
  userAgent: "facebookexternalua",
  remoteAddr: "127.0.0.1",
  forwardedFor: null,
  receivedAt: Date.now(),
});

describe("Inbox group commit into the segment log", () => {
  test("concurrent appends share log writes, and every row is indexed byte-exact", async () => {
    const { path, inbox, commits, indexed } = await setup();
    const bodies = Array.from({ length: 500 }, (_, i) => JSON.stringify({ n: i, text: "caf\u00e9 \u{1F600}" }));
    const ids = await Promise.all(bodies.map((b) => inbox.append(record(b))));
    expect(new Set(ids).size).toBe(500);
    expect(commits.reduce((a, b) => a + b, 0)).toBe(500);
    expect(commits.length).toBeLessThan(50); // far fewer writes and fsyncs than rows
    await indexed(500);
    const rows = readInbox(path);
    const byId = new Map(rows.map((r) => [r.id, new TextDecoder().decode(r.body)]));
    ids.forEach((id, i) => expect(byId.get(id)).toBe(bodies[i]!));
    expect(rows.every((r) => r.parseable === 1)).toBe(true);
  });

  test("a body that is not JSON is stored and flagged unparseable", async () => {
    const { path, inbox, indexed } = await setup();
    const [a, b, c] = await Promise.all([inbox.append(record("not json {")), inbox.append(record("")), inbox.append(record("[1]"))]);
    await indexed(3);
    const flags = new Map(readInbox(path).map((r) => [r.id, r.parseable]));
    expect([flags.get(a!), flags.get(b!), flags.get(c!)]).toEqual([0, 0, 1]);
  });

  test("append resolves once the log holds the webhook: a restart reads it from there", async () => {
    const { path, inbox } = await setup();
    const id = await inbox.append(record('{"x":1}'));
    const held = [...framesAfter(segmentsDir(path), 0)].flat();
    expect(held.map((f) => [f.id, new TextDecoder().decode(f.body)])).toEqual([[id, '{"x":1}']]);
  });

  test("a write lock held elsewhere never delays an acknowledgement; indexing catches up once it is released", async () => {
    const { path, inbox, indexed } = await setup();
    const other = new Database(path);
    other.run("BEGIN IMMEDIATE");
    const started = Date.now();
    const id = await inbox.append(record('{"while":"locked"}'));
    expect(Date.now() - started).toBeLessThan(1_000);
    await Bun.sleep(300);
    expect(readInbox(path)).toHaveLength(0);
    other.run("COMMIT");
    other.close();
    await indexed(1);
    expect(readInbox(path)[0]!.id).toBe(id);
  });

  test("readiness waits briefly for a lock held elsewhere, and says so when it is held too long", async () => {
    const { path, store } = await setup();
    expect(await store.probe()).toEqual({ ready: true });
    const other = new Database(path);
    other.run("BEGIN IMMEDIATE");
    const briefly = store.probe();
    await Bun.sleep(150);
    other.run("COMMIT");
    expect(await briefly).toEqual({ ready: true });
    other.run("BEGIN IMMEDIATE");
    const held = await store.probe();
    other.run("ROLLBACK");
    other.close();
    expect(held.ready).toBe(false);
    expect(!held.ready && held.reason).toStartWith("storage busy:");
  });

  test("acknowledged webhooks the log does not hold (its files changed under the daemon): not ready, saying why", async () => {
    const { writer } = await setup();
    expect(await writer.probe()).toEqual({ ready: true });
    writer.logged(5); // nothing in the log: ids 1..5 are nowhere to be read
    await waitFor(async () => !(await writer.probe()).ready);
    expect(await writer.probe()).toEqual({ ready: false, reason: "acknowledged webhooks are not being indexed (corrupt)" });
  });

  test("drain waits for in-flight writes", async () => {
    const { inbox, indexed } = await setup();
    const all = Array.from({ length: 50 }, (_, i) => inbox.append(record(`{"i":${i}}`)));
    await inbox.drain();
    expect(inbox.pending).toBe(0);
    await Promise.all(all);
    await indexed(50);
  });
});

describe("Inbox retries a store that reports its lock busy", () => {
  // The segment log never does; a store that can (another engine) gets each request's lock_timeout.
  const busyFor = (ms: number): InboxStore => {
    const until = Date.now() + ms;
    let next = 1;
    return {
      appendBatch: async (records) => {
        if (Date.now() < until) throw new StorageError("busy", "database is locked");
        return records.map(() => next++);
      },
    };
  };

  test("briefly busy: waited on, then committed", async () => {
    const inbox = new Inbox(busyFor(150), { lockTimeoutMs: 2000, clock: systemClock, log, busyRetryMs: 5 });
    expect(await inbox.append(record('{"waited":true}'))).toBe(1);
  });

  test("busy past lock_timeout: a busy StorageError for that request, then it recovers", async () => {
    const inbox = new Inbox(busyFor(400), { lockTimeoutMs: 300, clock: systemClock, log, busyRetryMs: 5 });
    const started = Date.now();
    const error = await inbox.append(record('{"late":true}')).catch((e) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).kind).toBe("busy");
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await Bun.sleep(150);
    expect(await inbox.append(record('{"after":true}'))).toBe(1);
  });
});
