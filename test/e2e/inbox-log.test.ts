/**
 * The inbox log on the binary, crashed on purpose: kill -9 while what was acknowledged
 * is only in the log (SQLite's write lock held elsewhere, so nothing could be indexed);
 * a torn frame at its tail; segments sealed and deleted under load, then kill -9. Each
 * time every acknowledged webhook ends in SQLite byte for byte, once, and ids go on.
 */
import { Database } from "bun:sqlite";
import { beforeAll, expect, test } from "bun:test";
import { appendFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { encodeFrame } from "../../src/store/log-frame";
import { framesAfter } from "../../src/store/segment-log";
import { readInbox, requireBinary, startDaemon, tempDir, waitFor, writeConfig } from "../support/daemon";
import { burst, signedPost, textMessage } from "../support/webhooks";

beforeAll(requireBinary);

const segmentsOf = (dir: string) => join(dir, "data/wa.db.segments");

/** Webhooks POSTed on 16 connections until `stop`; the acknowledged ones by id. */
function load(url: string, tag: string) {
  const acked = new Map<number, string>();
  const running = burst(`${url}/webhook`, 16, (n) => textMessage(`wamid.${tag}.${n}`), async (res, body) => {
    acked.set(((await res.json()) as { id: number }).id, body);
  });
  return { acked, stop: () => running.stop() };
}

function expectIndexedOnce(dir: string, acked: Map<number, string>) {
  const rows = readInbox(join(dir, "data/wa.db"));
  const byId = new Map(rows.map((r) => [r.id, new TextDecoder().decode(r.body)]));
  expect([...acked].filter(([id, body]) => byId.get(id) !== body)).toEqual([]);
  // Nothing stored twice: every row's body is a distinct webhook.
  expect(new Set(rows.map((r) => new TextDecoder().decode(r.body))).size).toBe(rows.length);
  return rows;
}

test("kill -9 while everything acknowledged is only in the log (SQLite's lock held elsewhere): the restart indexes all of it", async () => {
  const dir = tempDir();
  const config = writeConfig(dir);
  const daemon = await startDaemon(config);
  const holder = new Database(join(dir, "data/wa.db"));
  holder.run("PRAGMA busy_timeout = 10000");
  holder.run("BEGIN IMMEDIATE");
  const posts = load(daemon.url, "locked");
  await Bun.sleep(500);
  daemon.proc.kill("SIGKILL");
  await posts.stop();
  await daemon.proc.exited;
  expect(readInbox(join(dir, "data/wa.db"))).toHaveLength(0);
  holder.run("ROLLBACK");
  holder.close();
  expect(posts.acked.size).toBeGreaterThan(50);

  const again = await startDaemon(config);
  try {
    expect(again.lines.some((l) => l.includes("indexed webhooks from the inbox log"))).toBe(true);
    expectIndexedOnce(dir, posts.acked);
    const next = await signedPost(`${again.url}/webhook`, textMessage("wamid.after"));
    expect(((await next.json()) as { id: number }).id).toBeGreaterThan(Math.max(...posts.acked.keys()));
  } finally {
    expect(await again.stop()).toBe(0);
  }
}, 30_000);

test("a torn frame at the log's tail (a write cut by a crash, never acknowledged) is dropped; everything whole is indexed; ids go on", async () => {
  const dir = tempDir();
  const config = writeConfig(dir);
  const daemon = await startDaemon(config);
  const posts = load(daemon.url, "torn");
  await Bun.sleep(300);
  daemon.proc.kill("SIGKILL");
  await posts.stop();
  await daemon.proc.exited;
  const newest = readdirSync(segmentsOf(dir)).sort().at(-1)!;
  // The log's last whole frame: acknowledged, or written before the kill cut its answer (Meta would retry it).
  const lastId = [...framesAfter(segmentsOf(dir), 0)].flat().at(-1)!.id;
  expect(lastId).toBeGreaterThanOrEqual(Math.max(...posts.acked.keys()));
  const torn = encodeFrame(lastId + 1, { body: new TextEncoder().encode(textMessage("wamid.TORNFRAME")), signature: "sha256=x", userAgent: null, remoteAddr: null, forwardedFor: null, receivedAt: Date.now() });
  const path = join(segmentsOf(dir), newest);
  const whole = statSync(path).size;
  appendFileSync(path, torn.subarray(0, torn.length - 7));

  const again = await startDaemon(config);
  try {
    expect(statSync(path).size).toBe(whole);
    const rows = expectIndexedOnce(dir, posts.acked);
    expect(rows.some((r) => new TextDecoder().decode(r.body).includes("wamid.TORNFRAME"))).toBe(false);
    const next = await signedPost(`${again.url}/webhook`, textMessage("wamid.next"));
    expect(((await next.json()) as { id: number }).id).toBe(lastId + 1);
  } finally {
    expect(await again.stop()).toBe(0);
  }
}, 30_000);

test("under load, segments are sealed and deleted once indexed; kill -9 mid-way loses nothing and doubles nothing", async () => {
  const dir = tempDir();
  const config = writeConfig(dir);
  const daemon = await startDaemon(config);
  // ~2.8 KB webhooks: the log passes a segment's 16 MiB within seconds.
  const acked = new Map<number, string>();
  const running = burst(`${daemon.url}/webhook`, 16, (n) => textMessage(`wamid.recycle.${n}`, "y".repeat(2_400)), async (res, body) => {
    acked.set(((await res.json()) as { id: number }).id, body);
  });
  const seen = new Set<string>();
  await waitFor(() => {
    for (const f of readdirSync(segmentsOf(dir))) seen.add(f);
    return seen.size >= 3 && readdirSync(segmentsOf(dir)).length < seen.size; // sealed ones went
  }, 40_000);
  daemon.proc.kill("SIGKILL");
  await running.stop();
  await daemon.proc.exited;

  const again = await startDaemon(config);
  try {
    await waitFor(() => readInbox(join(dir, "data/wa.db")).length >= acked.size);
    const rows = expectIndexedOnce(dir, acked);
    expect(rows.length).toBeLessThanOrEqual(acked.size + 16); // at most the requests cut before their 200
  } finally {
    expect(await again.stop()).toBe(0);
  }
}, 60_000);
