/**
 * GET /v1/events/stream against a reader that stops reading: its buffer is bounded,
 * it is dropped with a final `dropped` event naming the last event it was sent, and
 * reconnecting with that Last-Event-ID resumes with nothing lost and nothing repeated.
 */
import { Database } from "bun:sqlite";
import { beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { requireBinary, startDaemon, stopAfterEach, tempDir, waitFor, writeConfig } from "../support/daemon";
import { sseReader } from "../support/sse-reader";
import { signedPost, textMessage } from "../support/webhooks";

beforeAll(requireBinary);
const { daemons } = stopAfterEach();

test("a reader that falls behind gets a last `dropped` event; resuming from its last_event_id loses nothing", async () => {
  const dir = tempDir();
  const dbPath = join(dir, "data/wa.db");
  // A long idle timeout: the daemon's own rule drops the reader, not Bun's timer.
  const daemon = await startDaemon(writeConfig(dir, { storagePath: dbPath, maxBodyBytes: 1 << 20, server: 'idle_timeout = "60s"' }));
  daemons.push(daemon);
  const stalled = sseReader(daemon.port, { pauseMs: Infinity });
  await Bun.sleep(500); // connected, at the newest event
  // Big events until the kernel's socket buffers and the stream's own are full and it has given up.
  const text = "é".repeat(50_000);
  let posted = 0;
  const dropped = () => daemon.lines.some((l) => l.includes('"msg":"event stream: dropped a client that fell behind"'));
  while (!dropped() && posted < 600) {
    expect((await signedPost(`${daemon.url}/webhook`, textMessage(`wamid.BIG${posted++}`, text))).status).toBe(200);
    if (posted % 20 === 0) await Bun.sleep(200);
  }
  await waitFor(dropped, 20_000);
  stalled.resume();
  await waitFor(() => stalled.ended, 20_000);
  expect(stalled.dropped).toHaveLength(1);
  const last = JSON.parse(stalled.dropped[0]!.data) as { error: string; last_event_id: string; reason: string };
  expect(last.error).toBe("too_slow");
  expect(last.reason).toContain("reconnect with Last-Event-ID");
  expect(last.last_event_id).toBe(stalled.ids.at(-1)!);

  // What was stored, in commit order; the first reader got a prefix of it.
  const db = new Database(dbPath, { readonly: true });
  // Up to 600 bodies of 100 KB: on a loaded machine their processing takes more than the usual 15 s.
  await waitFor(() => db.query<{ n: number }, []>("SELECT count(*) n FROM inbox WHERE state <> 'done'").get()!.n === 0, 60_000);
  const stored = db.query<{ id: string }, []>("SELECT id FROM events ORDER BY id").all().map((r) => r.id);
  db.close();
  expect(stalled.ids).toEqual(stored.slice(0, stalled.ids.length));
  expect(stalled.ids.length).toBeLessThan(stored.length); // it really fell behind

  const resumed = sseReader(daemon.port, { pauseMs: 0, lastEventId: last.last_event_id });
  await waitFor(() => resumed.ids.length >= stored.length - stalled.ids.length, 20_000);
  resumed.stop();
  expect([...stalled.ids, ...resumed.ids]).toEqual(stored);
  expect(stored).toHaveLength(posted);
}, 90_000);
