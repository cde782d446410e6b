/**
 * Pipeline benchmark (make bench): 100,000 signed POSTs of mixed types (text messages,
 * delivered/read statuses, template quality updates), each one event, through ingestion,
 * the worker and a hook to a local sink (bench/sink.ts). Reports ingestion req/s and p99
 * with the worker running vs. ingest-only (worker.enabled = false), events/s processed
 * (normalized, deduped, stored) and delivered end to end (signed, acknowledged, finalized).
 * Knobs: BENCH_EVENTS (100000), BENCH_CONNECTIONS (64).
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runLoad, type LoadResult } from "./loadgen";
import { mixedBody, signedRequest } from "./payloads";
import { spawnListening } from "./spawn";

const SECRET = "bench-secret";
const WHSEC = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const root = resolve(import.meta.dir, "..");
const pool = Array.from({ length: EVENTS }, (_, i) => signedRequest("127.0.0.1", "/webhook", mixedBody(i), SECRET));

async function run(workerEnabled: boolean, sinkPort: number, binary = join(root, "dist/wa-webhookd")) {
  const dir = mkdtempSync(join(tmpdir(), "wa-pipe-bench-"));
  writeFileSync(
    join(dir, "config.toml"),
    `[server]\nlisten = "127.0.0.1:0"\n[storage]\npath = "${dir}/bench.db"\n[whatsapp]\nverify_token = "b"\napp_secrets = ["${SECRET}"]\n` +
      `[admin]\ntoken = "bench-admin-token-0000"\n[worker]\nenabled = ${workerEnabled}\n` +
      `[[hooks]]\nname = "sink"\nurl = "http://127.0.0.1:${sinkPort}/hook"\nsecret = "${WHSEC}"\nconcurrency = 64\n`,
  );
  const daemon = await spawnListening([binary, "--config", join(dir, "config.toml")], dir);
  const start = performance.now();
  const load = await runLoad({ host: "127.0.0.1", port: daemon.port, connections: CONNECTIONS, durationMs: 600_000, requests: pool });
  let processedAt = 0;
  let deliveredAt = 0;
  let doneAtIngestEnd = 0;
  const ingestEnd = performance.now();
  if (workerEnabled) {
    const db = new Database(join(dir, "bench.db"), { readonly: true });
    const q = (sql: string) => (db.query(sql).get() as { n: number }).n;
    doneAtIngestEnd = q("SELECT count(*) n FROM inbox WHERE state = 'done'");
    while (!deliveredAt) {
      if (!processedAt && q("SELECT count(*) n FROM inbox WHERE state = 'done'") >= EVENTS) processedAt = performance.now();
      if (q("SELECT count(*) n FROM deliveries WHERE state = 'done'") >= EVENTS) deliveredAt = performance.now();
      if (performance.now() - start > 600_000) throw new Error("pipeline did not finish in 10 minutes");
      await Bun.sleep(20);
    }
    db.close();
  }
  await daemon.stop();
  rmSync(dir, { recursive: true, force: true });
  return {
    load,
    processedSec: (processedAt - start) / 1000,
    deliveredSec: (deliveredAt - start) / 1000,
    // The worker's own pace once the burst is over (during it, ingestion has priority).
    catchUpRate: (EVENTS - doneAtIngestEnd) / ((processedAt - ingestEnd) / 1000),
    doneAtIngestEnd,
  };
}

const sink = await spawnListening([process.execPath, join(root, "bench/sink.ts")], root);
const ingestOnly = await run(false, sink.port);
const full = await run(true, sink.port);
// BENCH_COMPARE: the same two runs on another build (e.g. the previous commit's), same machine, same run.
const compare = process.env.BENCH_COMPARE ? { ingestOnly: await run(false, sink.port, process.env.BENCH_COMPARE), full: await run(true, sink.port, process.env.BENCH_COMPARE) } : null;
const sinkCount = ((await (await fetch(`http://127.0.0.1:${sink.port}/`)).json()) as { count: number }).count;
await sink.stop();

const fmt = (r: LoadResult) => `${Math.round(r.rps).toLocaleString("en")} req/s, p99 ${r.p99ms.toFixed(2)} ms, non-2xx ${r.non2xx + r.errors}`;
const lines = [
  `Pipeline, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Bun ${Bun.version}`,
  `${EVENTS.toLocaleString("en")} signed POSTs (mixed: text, delivered, read, template quality), one event each, ${CONNECTIONS} connections`,
  "",
  `| measure | figure |`,
  `|---|---|`,
  `| ingestion, worker off (ingest only) | ${fmt(ingestOnly.load)} |`,
  `| ingestion, worker on | ${fmt(full.load)} (${((full.load.rps / ingestOnly.load.rps) * 100).toFixed(0)}% of ingest-only) |`,
  `| events normalized, deduped, stored | ${Math.round(EVENTS / full.processedSec).toLocaleString("en")} events/s (all ${EVENTS} done ${full.processedSec.toFixed(1)} s after the first POST) |`,
  `| worker catch-up after the burst (normalized, deduped, stored) | ${Math.round(full.catchUpRate).toLocaleString("en")} events/s (${full.doneAtIngestEnd} of ${EVENTS} were done when the last POST was answered) |`,
  `| events delivered end to end | ${Math.round(EVENTS / full.deliveredSec).toLocaleString("en")} events/s (all done ${full.deliveredSec.toFixed(1)} s after the first POST; sink received ${sinkCount}) |`,
];
if (compare) {
  lines.push(
    `| BENCH_COMPARE build: ingestion, worker off / on | ${fmt(compare.ingestOnly.load)} / ${fmt(compare.full.load)} (${((compare.full.load.rps / compare.ingestOnly.load.rps) * 100).toFixed(0)}%) |`,
    `| BENCH_COMPARE build: processed / catch-up / delivered | ${Math.round(EVENTS / compare.full.processedSec).toLocaleString("en")} / ${Math.round(compare.full.catchUpRate).toLocaleString("en")} / ${Math.round(EVENTS / compare.full.deliveredSec).toLocaleString("en")} events/s |`,
  );
}
console.log(lines.join("\n"));
