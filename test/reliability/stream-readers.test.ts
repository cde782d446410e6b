/**
 * Case 10: slow readers of GET /v1/events/stream (issue 18, item 10). READERS clients
 * that read slower than events arrive (half of them one chunk every 2 s, reconnecting
 * with Last-Event-ID as an EventSource does; half never past the first chunk), in a
 * process of their own, while webhooks with 8 KB texts arrive at 40/s. Against a baseline in the same test with no reader: ack p99 and the
 * daemon's RSS stay bounded, every POST is acknowledged, and each reader's events, over
 * all its connections, are exactly the stored ones from its first on: no gap, no repeat.
 */
import { Database } from "bun:sqlite";
import { beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { runLoad } from "../../bench/loadgen";
import { signedRequest } from "../../bench/payloads";
import { requireBinary, rssMiB, SECRETS, startDaemon, stopAfterEach, tempDir, waitFor, writeConfig } from "../support/daemon";
import type { ReadersReport } from "../support/slow-readers";
import { textMessage } from "../support/webhooks";
import { sqliteOnly } from "../support/engine";
import { FULL, report, size } from "./size";

beforeAll(requireBinary);
const { daemons } = stopAfterEach();
const ROOT = join(import.meta.dir, "../..");

const READERS = size(40, 200);
const SECONDS = size(10, 50);
const RATE = 40;

// SQLite only: the case checks each reader's run against the file's id order; on PostgreSQL the stream goes by (transaction, id)
// (docs/ARCHITECTURE.md, "The PostgreSQL engine"), and test/e2e/postgres-stream.test.ts and postgres-event-stream.test.ts cover it.
sqliteOnly("the readers' runs are checked against SQLite's id order; PostgreSQL's stream order is covered by test/e2e/postgres-stream.test.ts")(`${READERS} slow stream readers while ${RATE} webhooks/s with 8 KB texts arrive for ${SECONDS} s: acks and memory unaffected, nothing lost`, async () => {
  const dir = tempDir();
  const dbPath = join(dir, "data/wa.db");
  const daemon = await startDaemon(writeConfig(dir, { storagePath: dbPath }));
  daemons.push(daemon);
  let n = 0;
  const text = "x".repeat(8192);
  const load = () => {
    const requests = Array.from({ length: RATE * SECONDS }, () => signedRequest("127.0.0.1", "/webhook", textMessage(`wamid.SLOW${n++}`, text), SECRETS[0]!));
    return runLoad({ host: "127.0.0.1", port: daemon.port, connections: 4, durationMs: SECONDS * 1000 + 2_000, requests, rate: RATE });
  };
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(daemon.proc.pid))), 250);

  const baseline = await load();
  const rssBaseline = peak;
  const readers = Bun.spawn([join(ROOT, "node_modules/.bin/bun"), join(ROOT, "test/support/slow-readers.ts"), String(daemon.port), String(READERS), "2000", String(READERS / 2)], { stdout: "pipe", stderr: "inherit" });
  peak = 0;
  const under = await load();
  clearInterval(sampler);
  readers.kill("SIGTERM");
  const got = JSON.parse((await new Response(readers.stdout).text()).trim().split("\n").at(-1)!) as ReadersReport;

  const db = new Database(dbPath, { readonly: true });
  await waitFor(() => db.query<{ n: number }, []>("SELECT count(*) n FROM inbox WHERE state <> 'done'").get()!.n === 0, 60_000);
  const stored = db.query<{ id: string }, []>("SELECT id FROM events ORDER BY id").all().map((r) => r.id);
  db.close();
  const position = new Map(stored.map((id, i) => [id, i]));
  // Each reader's ids are a run of consecutive stored events, whatever its reconnections.
  const intact = got.ids.filter((ids) => ids.every((id, i) => position.get(id) === position.get(ids[0]!)! + i));

  const figures = {
    readers: READERS,
    seconds: SECONDS,
    ack_p99_ms: { baseline: Math.round(baseline.p99ms), readers: Math.round(under.p99ms) },
    ack_max_ms: { baseline: Math.round(baseline.maxms), readers: Math.round(under.maxms) },
    rss_peak_mib: { baseline: Math.round(rssBaseline), readers: Math.round(peak) },
    read_mib: Math.round(got.bytes / 1048576),
    events_read: got.ids.reduce((a, ids) => a + ids.length, 0),
    connections: got.connections,
    dropped_events: got.dropped,
    readers_intact: intact.length,
  };
  report("slow stream readers", figures);

  expect([baseline.ok200, under.ok200]).toEqual([RATE * SECONDS, RATE * SECONDS]);
  expect(under.p99ms).toBeLessThan(Math.max(3 * baseline.p99ms, baseline.p99ms + 50));
  // Each reader holds at most its 512 KiB buffer; the window of recent events is shared.
  expect(peak - rssBaseline).toBeLessThan(32 + READERS);
  expect(intact).toHaveLength(READERS);
  if (FULL) expect(got.connections).toBeGreaterThan(READERS); // readers fell behind, were dropped and resumed
}, size(120_000, 600_000));
