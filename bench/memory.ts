/**
 * Memory benchmark (make bench-memory): the daemon's RSS idle, during and after a
 * sustained load, worker off (ingestion alone), then worker on with one hook at
 * concurrency 64 to a local sink (the production shape). The reference build
 * (bench/reference.ts) and this build, alternating, in one run.
 * Load: mixed signed POSTs at 64 connections, closed loop, for BENCH_MEMORY_SECONDS (60).
 * Reports RSS 2 s after start (idle), its peak during the load (sampled every 500 ms),
 * at the end of the load, and 5 s later.
 * Knobs: BENCH_MEMORY_SECONDS (60), BENCH_CONNECTIONS (64), BENCH_REFERENCE_BINARY.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SECRET, writeHookedConfig } from "./config";
import { runLoad } from "./loadgen";
import { mixedBody, signedRequest } from "./payloads";
import { currentBinary, machine, REFERENCE, referenceBinary, referenceLabel, root, rssMB } from "./reference";
import { spawnListening } from "./spawn";

const SECONDS = Number(process.env.BENCH_MEMORY_SECONDS ?? 60);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
// Worker off, ingestion reaches ~15–20k/s here: enough unique requests that none is sent twice.
const POOL = Number(process.env.BENCH_POOL ?? 25_000 * SECONDS);

const reference = referenceBinary();
const binaries = (process.env.BENCH_MEMORY_BINARIES?.split(",") ?? [reference, currentBinary]).filter(Boolean);
console.error(`building ${POOL} signed requests…`);
const pool = Array.from({ length: POOL }, (_, i) => signedRequest("127.0.0.1", "/webhook", mixedBody(i), SECRET));

interface Measured {
  idle: number;
  peak: number;
  end: number;
  after: number;
  acks: number;
}

async function measure(binary: string, worker: boolean): Promise<Measured> {
  const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "wa-mem-bench-"));
  const sink = await spawnListening([process.execPath, join(root, "bench/sink.ts")], root);
  const server = await spawnListening([binary, "--config", writeHookedConfig(dir, sink.port, `[worker]\nenabled = ${worker}\n`)], dir);
  const pid = server.proc.pid;
  try {
    await Bun.sleep(2_000);
    const idle = await rssMB(pid);
    let peak = idle;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await rssMB(pid));
        await Bun.sleep(500);
      }
    })();
    const load = await runLoad({ host: "127.0.0.1", port: server.port, connections: CONNECTIONS, durationMs: SECONDS * 1000, requests: pool });
    sampling = false;
    await sampler;
    const end = await rssMB(pid);
    peak = Math.max(peak, end);
    await Bun.sleep(5_000);
    return { idle, peak, end, after: await rssMB(pid), acks: load.ok200 };
  } finally {
    await server.stop();
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: string[] = [];
for (const worker of [false, true]) {
  for (const binary of binaries) {
    const m = await measure(binary, worker);
    const name = binary === reference ? referenceLabel : binary === currentBinary ? "this build" : binary;
    rows.push(`| ${worker ? "on, hook" : "off"} | ${name} | ${Math.round(m.idle)} MB | ${Math.round(m.peak)} MB | ${Math.round(m.end)} MB | ${Math.round(m.after)} MB | ${Math.round(m.acks / SECONDS).toLocaleString("en")} |`);
  }
}
const lines = [
  `Memory, ${new Date().toISOString().slice(0, 10)}, ${await machine()}`,
  `mixed signed POSTs at ${CONNECTIONS} connections for ${SECONDS} s; worker on: one hook at concurrency 64 to a local sink; reference = ${process.env.BENCH_REFERENCE_BINARY ?? REFERENCE}`,
  "",
  "| worker | build | RSS idle | peak during load | at the end of the load | 5 s later | acks/s |",
  "|---|---|---|---|---|---|---|",
  ...rows,
];
console.log(lines.join("\n"));
mkdirSync(join(root, "bench/out"), { recursive: true });
writeFileSync(join(root, "bench/out/memory.md"), lines.join("\n") + "\n");
