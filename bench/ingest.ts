/**
 * Ingestion benchmark (make bench): signed ~1 KB text-message webhooks, unique wamid
 * and signature each, 64 connections for 10 s, against
 *   1. the baseline: bare Bun.serve + HMAC, no storage (bench/bare-server.ts);
 *   2. wa-webhookd (dist/wa-webhookd) with synchronous = "full", then "normal".
 * Then checks rows stored == 200s received. Figures go to bench/RESULTS.md by hand.
 * Knobs: BENCH_SECONDS (10), BENCH_CONNECTIONS (64), BENCH_POOL (requests built up front).
 */
import { Database } from "bun:sqlite";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runLoad, type LoadResult } from "./loadgen";
import { signedRequest, textMessageBody } from "./payloads";
import { spawnListening } from "./spawn";

const SECRET = "bench-secret";
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const POOL = Number(process.env.BENCH_POOL ?? 900_000);
const WARMUP_MS = 1_000;
const root = resolve(import.meta.dir, "..");
const binary = join(root, "dist/wa-webhookd");

console.error(`building ${POOL} signed requests…`);
const pool = Array.from({ length: POOL }, (_, i) => signedRequest("127.0.0.1", "/webhook", textMessageBody(i), SECRET));
console.error(`request size ≈ ${pool[0]!.length} bytes`);

async function measure(port: number, keepBodies: boolean): Promise<{ warm: LoadResult; main: LoadResult }> {
  const half = Math.floor(POOL / 8);
  const warm = await runLoad({ host: "127.0.0.1", port, connections: CONNECTIONS, durationMs: WARMUP_MS, requests: pool.slice(0, half), keepBodies });
  const main = await runLoad({ host: "127.0.0.1", port, connections: CONNECTIONS, durationMs: SECONDS * 1000, requests: pool.slice(half), keepBodies });
  return { warm, main };
}

async function baseline(): Promise<LoadResult> {
  const server = await spawnListening([process.execPath, join(root, "bench/bare-server.ts")], root);
  try {
    return (await measure(server.port, false)).main;
  } finally {
    await server.stop();
  }
}

/** Another build (e.g. the previous commit's) to measure beside this one, in the same run. */
const compareBinary = process.env.BENCH_COMPARE ?? null;

async function daemon(synchronous: "full" | "normal", bin = binary): Promise<LoadResult & { stored: number; lost: number }> {
  const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "wa-bench-"));
  writeFileSync(
    join(dir, "config.toml"),
    `[server]\nlisten = "127.0.0.1:0"\n[storage]\npath = "${dir}/bench.db"\nsynchronous = "${synchronous}"\n` +
      `[whatsapp]\nverify_token = "bench"\napp_secrets = ["${SECRET}"]\n[admin]\ntoken = "bench-admin-token-0000"\n[log]\nlevel = "info"\n` +
      // Ingestion alone; bench/pipeline.ts measures it with the worker running.
      `[worker]\nenabled = false\n`,
  );
  const server = await spawnListening([bin, "--config", join(dir, "config.toml")], dir);
  let result: { warm: LoadResult; main: LoadResult };
  try {
    result = await measure(server.port, true);
  } finally {
    await server.stop();
  }
  const db = new Database(join(dir, "bench.db"), { readonly: true });
  const stored = db.query<{ n: number }, []>("SELECT count(*) AS n FROM inbox").get()!.n;
  const ids = new Set(db.query<{ id: number }, []>("SELECT id FROM inbox").all().map((r) => r.id));
  db.close();
  const acknowledged = [...result.warm.okBodies, ...result.main.okBodies].map((b) => JSON.parse(b).id as number);
  const lost = acknowledged.filter((id) => !ids.has(id)).length;
  rmSync(dir, { recursive: true, force: true });
  return { ...result.main, stored, lost, ok200: result.main.ok200 + result.warm.ok200 };
}

function row(name: string, r: LoadResult, extra = "") {
  return `| ${name} | ${Math.round(r.rps).toLocaleString("en")} | ${r.p50ms.toFixed(2)} | ${r.p99ms.toFixed(2)} | ${r.maxms.toFixed(1)} | ${r.non2xx + r.errors} | ${extra} |`;
}

const base = await baseline();
const before = compareBinary ? await daemon("full", compareBinary) : null;
const full = await daemon("full");
const normal = await daemon("normal");
const after = compareBinary ? await daemon("full", compareBinary) : null;
const base2 = await baseline();
const compared = (name: string, r: typeof full | null) =>
  r ? [row(name, r, `${((r.rps / base.rps) * 100).toFixed(0)}% of baseline; this build = ${((full.rps / r.rps) * 100).toFixed(0)}% of it`)] : [];

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Linux ${process.platform === "linux" ? (await Bun.file("/proc/sys/kernel/osrelease").text()).trim() : ""}, Bun ${Bun.version}`;
const lines = [
  `Ingestion, ${new Date().toISOString().slice(0, 10)}, ${machine}`,
  `${CONNECTIONS} connections, ${SECONDS} s, ~${pool[0]!.length} B requests, worker off (ingestion alone)`,
  "",
  "| run | req/s | p50 ms | p99 ms | max ms | non-2xx | notes |",
  "|---|---|---|---|---|---|---|",
  row("bare Bun.serve + HMAC (baseline)", base),
  ...compared(`BENCH_COMPARE build, synchronous="full"`, before),
  row('wa-webhookd, synchronous="full"', full, `${((full.rps / base.rps) * 100).toFixed(0)}% of baseline; 200s=${full.ok200} stored=${full.stored} lost=${full.lost}`),
  row('wa-webhookd, synchronous="normal"', normal, `${((normal.rps / base.rps) * 100).toFixed(0)}% of baseline; 200s=${normal.ok200} stored=${normal.stored} lost=${normal.lost}`),
  ...compared(`BENCH_COMPARE build again, synchronous="full"`, after),
  row("bare baseline again (noise check)", base2),
];
console.log(lines.join("\n"));
mkdirSync(join(root, "bench/out"), { recursive: true });
writeFileSync(join(root, "bench/out/ingest.md"), lines.join("\n") + "\n");
const pass = full.rps >= 0.6 * base.rps && full.p99ms < 20 && full.non2xx + full.errors === 0 && full.lost === 0 && full.stored === full.ok200;
console.log(`\ntarget (full ≥ 60% of baseline, p99 < 20 ms, no non-2xx, none lost): ${pass ? "met" : "NOT met"}`);
