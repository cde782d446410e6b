/**
 * Case 4: another process holds the database's write lock for a long time (30 s at
 * full size). Webhooks are acknowledged once the inbox log holds them, so every POST
 * meanwhile gets its 200 as fast as ever; readiness says the database is busy; once
 * the lock is released the daemon indexes everything it acknowledged, by itself.
 */
import { Database } from "bun:sqlite";
import { beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { readInbox, requireBinary, startDaemon, stopAfterEach, tempDir, waitFor, writeConfig } from "../support/daemon";
import { signedPost, textMessage } from "../support/webhooks";
import { sqliteOnly } from "../support/engine";
import { report, size } from "./size";

beforeAll(requireBinary);
const { daemons } = stopAfterEach();

const HOLD_MS = size(3_000, 30_000);
const LOCK_TIMEOUT_MS = 1_000;

// SQLite's by nature: its one write lock on the file, and the inbox log that acknowledges meanwhile. PostgreSQL has neither;
// its counterpart, the server stopped under load (503s, recovery without restart), is test/e2e/postgres-cluster.test.ts.
sqliteOnly("SQLite's file write lock and inbox log; PostgreSQL's counterpart (server stopped under load) is test/e2e/postgres-cluster.test.ts")(`the write lock held ${HOLD_MS / 1000} s by another process: every POST acknowledged meanwhile, all of them indexed after`, async () => {
  const dir = tempDir();
  const dbPath = join(dir, "data/wa.db");
  const daemon = await startDaemon(writeConfig(dir, { storagePath: dbPath, lockTimeout: `${LOCK_TIMEOUT_MS}ms` }));
  daemons.push(daemon);
  const holder = new Database(dbPath);
  holder.run("PRAGMA busy_timeout = 10000");
  holder.run("BEGIN IMMEDIATE");
  const held = performance.now();
  const answers: { status: number; ms: number }[] = [];
  let n = 0;
  while (performance.now() - held < HOLD_MS) {
    const t = performance.now();
    const res = await signedPost(`${daemon.url}/webhook`, textMessage(`wamid.LOCK${n++}`));
    answers.push({ status: res.status, ms: performance.now() - t });
  }
  const busy = await fetch(`${daemon.url}/readyz`);
  expect(readInbox(dbPath)).toHaveLength(0); // nothing indexed while held
  holder.run("ROLLBACK");
  holder.close();
  const released = performance.now();
  await waitFor(() => readInbox(dbPath).length === answers.length, 30_000);
  const indexedMs = performance.now() - released;
  expect(answers.every((a) => a.status === 200)).toBe(true);
  const slowest = Math.max(...answers.map((a) => a.ms));
  expect(slowest).toBeLessThan(LOCK_TIMEOUT_MS);
  expect(busy.status).toBe(503);
  expect((await fetch(`${daemon.url}/readyz`)).status).toBe(200);
  report("write lock held", { held_s: HOLD_MS / 1000, posts_while_held: answers.length, all_200: true, slowest_ack_ms: Math.round(slowest), all_indexed_after_ms: Math.round(indexedMs) });
}, size(60_000, 120_000));
