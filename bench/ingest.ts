/**
 * Ingestion benchmark (make bench): signed ~1.3 KB text-message webhooks, unique wamid
 * and signature each, 64 keep-alive connections, closed loop, worker off (ingestion
 * alone), synchronous = "full" (BENCH_SYNC=normal: no fsync, to see what the fsync costs). In one run, alternating so that drift in the machine
 * shows in every column alike:
 *   bare Bun.serve + HMAC (bench/bare-server.ts), the pinned reference build
 *   (bench/reference.ts), this build; twice each.
 * Reports req/s, p99, the ratio to the bare server of the same round, the CPU each spent
 * per request (all threads, and the request thread: steadier than req/s on a shared
 * machine), RSS idle and after
 * the load, and checks rows stored == 200s answered. Figures go to bench/RESULTS.md by hand.
 * Knobs: BENCH_SECONDS (6), BENCH_CONNECTIONS (64), BENCH_ROUNDS (2), BENCH_SYNC (full).
 */
import { Database } from "bun:sqlite";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLoad, type LoadResult } from "./loadgen";
import { signedRequest, textMessageBody } from "./payloads";
import { currentBinary, machine, REFERENCE, referenceBinary, referenceLabel, root, rssMB } from "./reference";
import { spawnListening } from "./spawn";
import { cpuPerRequest, threadTicks } from "./cpu";

const SECRET = "bench-secret";
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const WARMUP_MS = 1_000;
// Enough unique requests for the fastest server: none is ever sent twice.
const POOL = Number(process.env.BENCH_POOL ?? 80_000 * (SECONDS + 1));

const reference = referenceBinary();
console.error(`building ${POOL} signed requests…`);
const pool = Array.from({ length: POOL }, (_, i) => signedRequest("127.0.0.1", "/webhook", textMessageBody(i), SECRET));

interface Measured {
  load: LoadResult;
  /** µs of CPU per answered request during the measured load: every thread, and the request thread. */
  cpu: { total: number; request: number };
  idleMB: number | null;
  loadedMB: number | null;
  lost: number;
  stored: number;
}

async function load(port: number, pid: number, keepBodies: boolean) {
  const cut = Math.floor(POOL / 8);
  const warm = await runLoad({ host: "127.0.0.1", port, connections: CONNECTIONS, durationMs: WARMUP_MS, requests: pool.slice(0, cut), keepBodies });
  const before = threadTicks(pid);
  const main = await runLoad({ host: "127.0.0.1", port, connections: CONNECTIONS, durationMs: SECONDS * 1000, requests: pool.slice(cut), keepBodies });
  return { warm, main, cpu: cpuPerRequest(pid, before, threadTicks(pid), main.ok200 + main.non2xx) };
}

async function bare(): Promise<Measured> {
  const server = await spawnListening([process.execPath, join(root, "bench/bare-server.ts")], root);
  try {
    const { main, cpu } = await load(server.port, server.proc.pid, false);
    return { load: main, cpu, idleMB: null, loadedMB: null, lost: 0, stored: 0 };
  } finally {
    await server.stop();
  }
}

async function daemon(binary: string): Promise<Measured> {
  const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "wa-bench-"));
  writeFileSync(
    join(dir, "config.toml"),
    `[server]\nlisten = "127.0.0.1:0"\n[storage]\npath = "${dir}/bench.db"\nsynchronous = "${process.env.BENCH_SYNC ?? "full"}"\n` +
      `[whatsapp]\nverify_token = "bench"\napp_secrets = ["${SECRET}"]\n[admin]\ntoken = "bench-admin-token-0000"\n` +
      `[worker]\nenabled = false\n`,
    { mode: 0o600 },
  );
  const server = await spawnListening([binary, "--config", join(dir, "config.toml")], dir);
  let result: Awaited<ReturnType<typeof load>>;
  let idleMB: number;
  let loadedMB: number;
  try {
    await Bun.sleep(500);
    idleMB = await rssMB(server.proc.pid);
    result = await load(server.port, server.proc.pid, true);
    loadedMB = await rssMB(server.proc.pid);
  } finally {
    await server.stop();
  }
  const db = new Database(join(dir, "bench.db"), { readonly: true });
  const ids = new Set(db.query<{ id: number }, []>("SELECT id FROM inbox").all().map((r) => r.id));
  db.close();
  const acknowledged = [...result.warm.okBodies, ...result.main.okBodies].map((b) => JSON.parse(b).id as number);
  rmSync(dir, { recursive: true, force: true });
  return { load: result.main, cpu: result.cpu, idleMB, loadedMB, lost: acknowledged.filter((id) => !ids.has(id)).length, stored: ids.size - acknowledged.length };
}

const rounds: { bare: Measured; reference: Measured; current: Measured }[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const b = await bare();
  const reference_ = await daemon(reference);
  const current = await daemon(currentBinary);
  rounds.push({ bare: b, reference: reference_, current });
}

const mb = (n: number | null) => (n === null ? "—" : `${Math.round(n)} MB`);
const row = (round: number, name: string, m: Measured, base: Measured) =>
  `| ${round} | ${name} | ${Math.round(m.load.rps).toLocaleString("en")} | ${(m.load.rps / base.load.rps).toFixed(2)}× | ${m.load.p99ms.toFixed(1)} | ${Math.round(m.cpu.total)} (${Math.round(m.cpu.request)}) | ${m.load.non2xx + m.load.errors} | ${mb(m.idleMB)} | ${mb(m.loadedMB)} | ${m === base ? "" : `lost ${m.lost}, unacknowledged rows ${m.stored}`} |`;
const lines = [
  `Ingestion, worker off, ${new Date().toISOString().slice(0, 10)}, ${await machine()}`,
  `${CONNECTIONS} connections, ${SECONDS} s per run after ${WARMUP_MS / 1000} s of warm-up, ~${pool[0]!.length} B requests, synchronous = "${process.env.BENCH_SYNC ?? "full"}"; reference = ${process.env.BENCH_REFERENCE_BINARY ?? REFERENCE}`,
  "",
  "| round | build | req/s | × bare | p99 ms | CPU µs/req (request thread) | non-2xx | RSS idle | RSS after load | check |",
  "|---|---|---|---|---|---|---|---|---|---|",
  ...rounds.flatMap((r, i) => [row(i + 1, "bare Bun.serve + HMAC", r.bare, r.bare), row(i + 1, referenceLabel, r.reference, r.bare), row(i + 1, "this build", r.current, r.bare)]),
];
console.log(lines.join("\n"));
mkdirSync(join(root, "bench/out"), { recursive: true });
writeFileSync(join(root, "bench/out/ingest.md"), lines.join("\n") + "\n");
const ok = rounds.every((r) => r.current.lost === 0 && r.current.load.non2xx + r.current.load.errors === 0);
if (!ok) {
  console.error("an acknowledged webhook was not stored, or a request failed");
  process.exit(1);
}
