/**
 * Case 9: soak. A steady open-loop load (2,000 POSTs/s for 10 minutes at full size)
 * with the admin API and /metrics polled and the retention job running every few
 * seconds. Per slice of the run: ack p99, the daemon's RSS and the WAL's size. At full
 * size RSS must stay flat (< 10% growth from the first slice to the last), the WAL
 * bounded, p99 stable and the hook keeping up (98% delivered when the load stops,
 * all of it within seconds); at CI size (seconds long, caches still warming) the run must
 * be clean and the figures are printed. Bytes per event are measured at the end.
 *
 * On PostgreSQL (WA_TEST_ENGINE=postgres) the same against one instance on a fresh
 * database, at half the rate at full size (1,000/s): on this project's 2 shared cores that
 * engine delivers ~2,200 events/s at most with nothing else running (bench/RESULTS.md,
 * `make bench-postgres`), and here the load generator and the hook share those cores. There
 * is no WAL file to bound (PostgreSQL's own WAL is the server's); bytes per event are
 * pg_database_size.
 */
import { beforeAll, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { runLoad } from "../../bench/loadgen";
import { signedRequest } from "../../bench/payloads";
import { requireBinary, SECRETS, startDaemon, stopAfterEach, tempDir, waitFor, rssMiB } from "../support/daemon";
import { cleanUpAfterAll, daemonConfigs, ON_POSTGRES } from "../support/engine";
import { ADMIN } from "../support/filled";
import { hookToml } from "../support/pipeline";
import { spawnListening } from "../../bench/spawn";
import { textMessage } from "../support/webhooks";
import { FULL, report, size } from "./size";

beforeAll(requireBinary);
cleanUpAfterAll(); // PostgreSQL: the databases of this file dropped after it
const { daemons } = stopAfterEach();
const ROOT = join(import.meta.dir, "../..");

const RATE = ON_POSTGRES ? size(500, 1_000) : size(500, 2_000);
const SLICES = size(3, 10);
const SLICE_MS = size(2_000, 60_000);

const sizeMiB = (path: string) => {
  try {
    return statSync(path).size / 1048576;
  } catch {
    return 0;
  }
};

test(`soak: ${RATE} POSTs/s for ${(SLICES * SLICE_MS) / 1000} s with admin, metrics and retention running`, async () => {
  // The hook is another service: its own process, as bench/pipeline.ts runs it.
  const sink = await spawnListening([join(ROOT, "node_modules/.bin/bun"), join(ROOT, "bench/sink.ts")], ROOT);
  const dir = tempDir();
  const dbPath = join(dir, "data/wa.db");
  const toml = `${hookToml(`http://127.0.0.1:${sink.port}/hook`)}[sweeper]\nretention_schedule = "*/5 * * * * *"\n`;
  const { configs, store } = await daemonConfigs({ storagePath: dbPath, toml, server: "max_inflight_bytes = 67108864" }, { dir });
  const daemon = await startDaemon(configs[0]!);
  daemons.push(daemon);
  let polling = true;
  let polls = 0;
  const poller = (async () => {
    while (polling) {
      const [stats, metrics] = await Promise.all([fetch(`${daemon.url}/v1/stats`, { headers: ADMIN }), fetch(`${daemon.url}/metrics`)]);
      expect([stats.status, metrics.status]).toEqual([200, 200]);
      await Promise.all([stats.arrayBuffer(), metrics.arrayBuffer()]);
      polls++;
      await Bun.sleep(1_000);
    }
  })();
  const slices: { p99ms: number; rps: number; rss_mib: number; wal_mib: number | null; ok: number; non2xx: number; errors: number }[] = [];
  let n = 0;
  for (let s = 0; s < SLICES; s++) {
    const count = Math.ceil((RATE * SLICE_MS) / 1000);
    const requests = Array.from({ length: count }, () => signedRequest("127.0.0.1", "/webhook", textMessage(`wamid.SOAK${n++}`), SECRETS[0]!));
    const r = await runLoad({ host: "127.0.0.1", port: daemon.port, connections: 32, durationMs: SLICE_MS + 2_000, requests, rate: RATE });
    slices.push({ p99ms: Math.round(r.p99ms * 10) / 10, rps: Math.round(r.rps), rss_mib: Math.round(rssMiB(daemon.proc.pid)), wal_mib: ON_POSTGRES ? null : Math.round(sizeMiB(`${dbPath}-wal`)), ok: r.ok200, non2xx: r.non2xx, errors: r.errors });
  }
  polling = false;
  await poller;
  const q = (sql: string) => store.count(sql);
  /** On a timeout: what the run did, what is left, and what the daemon complained of. */
  const explain = async (err: unknown) => {
    console.log("soak slices", JSON.stringify(slices));
    console.log("outstanding", { inbox: await store.all("SELECT state, count(*) n FROM inbox GROUP BY state"), deliveries: await store.all("SELECT state, count(*) n FROM deliveries GROUP BY state") });
    console.log("daemon's warnings", daemon.lines.filter((l) => !l.includes('"level":"info"') && !l.includes('"level":"debug"')).slice(-20));
    throw err;
  };
  await waitFor(async () => (await q("SELECT count(*) n FROM inbox WHERE state <> 'done'")) === 0, 120_000).catch(explain);
  const events = await q("SELECT count(*) n FROM events");
  const delivered = await q("SELECT count(*) n FROM deliveries WHERE state = 'done'");
  // The hook keeps up: what was not delivered by the end goes within seconds, every event once.
  await waitFor(async () => (await q("SELECT count(*) n FROM deliveries WHERE state <> 'done'")) === 0, 60_000).catch(explain);
  const allDelivered = await q("SELECT count(*) n FROM deliveries WHERE state = 'done'");
  const storeBytes = ON_POSTGRES ? await store.bytes() : 0;
  await store.close();
  await sink.stop();
  const first = slices[0]!;
  const last = slices[slices.length - 1]!;
  const figures = { rate: RATE, slices, polls, events, delivered_by_end: delivered, bytes_per_event: Math.round((ON_POSTGRES ? storeBytes : (sizeMiB(dbPath) + sizeMiB(`${dbPath}-wal`)) * 1048576) / events), rss_growth_pct: Math.round(((last.rss_mib - first.rss_mib) / first.rss_mib) * 1000) / 10 };
  report("soak", figures);

  expect(slices.every((x) => x.non2xx === 0 && x.errors === 0)).toBe(true);
  expect(events).toBe(slices.reduce((a, x) => a + x.ok, 0));
  if (!ON_POSTGRES) expect(Math.max(...slices.map((x) => x.wal_mib!))).toBeLessThan(256); // the checkpoint thread keeps it bounded (SQLite's WAL; PostgreSQL's is the server's)
  expect(allDelivered).toBe(events);
  if (FULL) {
    expect(delivered / events).toBeGreaterThan(0.98); // at most ~12 s of traffic still queued when the load stops
    expect(figures.rss_growth_pct).toBeLessThan(10);
    expect(last.p99ms).toBeLessThan(Math.max(2 * first.p99ms, first.p99ms + 20));
  }
}, size(120_000, 1_200_000));
