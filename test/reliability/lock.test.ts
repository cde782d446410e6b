/**
 * Case 4: another process holds the database's write lock for a long time (30 s at
 * full size). Every POST meanwhile gets 503 within storage.lock_timeout, never a 200;
 * once the lock is released the daemon recovers by itself and stores again.
 */
import { Database } from "bun:sqlite";
import { beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { readInbox, requireBinary, startDaemon, stopAfterEach, tempDir, writeConfig } from "../support/daemon";
import { signedPost, textMessage } from "../support/webhooks";
import { report, size } from "./size";

beforeAll(requireBinary);
const { daemons } = stopAfterEach();

const HOLD_MS = size(3_000, 30_000);
const LOCK_TIMEOUT_MS = 1_000;

test(`the write lock held ${HOLD_MS / 1000} s by another process: 503 within lock_timeout throughout, recovery after`, async () => {
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
  while (performance.now() - held < HOLD_MS - LOCK_TIMEOUT_MS) {
    const t = performance.now();
    const res = await signedPost(`${daemon.url}/webhook`, textMessage(`wamid.LOCK${n++}`));
    answers.push({ status: res.status, ms: performance.now() - t });
  }
  holder.run("ROLLBACK");
  holder.close();
  const released = performance.now();
  let recoveredMs = -1;
  for (let i = 0; i < 50 && recoveredMs < 0; i++) {
    if ((await signedPost(`${daemon.url}/webhook`, textMessage(`wamid.FREE${i}`))).status === 200) recoveredMs = performance.now() - released;
  }
  expect(answers.every((a) => a.status === 503)).toBe(true);
  const slowest = Math.max(...answers.map((a) => a.ms));
  expect(slowest).toBeLessThan(LOCK_TIMEOUT_MS + 1_000);
  expect(recoveredMs).toBeGreaterThanOrEqual(0);
  expect(readInbox(dbPath)).toHaveLength(1); // only the first POST after the release
  expect((await fetch(`${daemon.url}/readyz`)).status).toBe(200);
  report("write lock held", { held_s: HOLD_MS / 1000, posts_while_held: answers.length, all_503: true, slowest_503_ms: Math.round(slowest), recovered_after_ms: Math.round(recoveredMs) });
}, size(60_000, 120_000));
