/**
 * Pipeline benchmark (make bench): a burst of signed POSTs of mixed types (text
 * messages, delivered/read statuses, template quality updates; one event each) at 64
 * connections for BENCH_SECONDS, worker on, one hook at concurrency 64 to a local
 * counting sink (bench/sink.ts, its own process), until the sink has an event for every
 * acknowledged POST. In one run, alternating: the bare Bun.serve + HMAC server (acks
 * only), the pinned reference build (bench/reference.ts) and this build.
 * Reports acks/s and p99 during the burst, delivered events/s (acknowledged events /
 * seconds from the first POST to the last delivery), each as a ratio to the bare
 * server's acks of the same round, and RSS at the end of the burst.
 * BENCH_SUSTAINED=30 adds a 30 s closed-loop run per build (acks/s settle at what
 * processing sustains). Knobs: BENCH_SECONDS (6), BENCH_CONNECTIONS (64), BENCH_ROUNDS (2).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SECRET, writeHookedConfig } from "./config";
import { runLoad, type LoadResult } from "./loadgen";
import { mixedBody, signedRequest } from "./payloads";
import { currentBinary, machine, REFERENCE, referenceBinary, referenceLabel, root, rssMB } from "./reference";
import { spawnListening, type Running } from "./spawn";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const SUSTAINED = Number(process.env.BENCH_SUSTAINED ?? 0);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const POOL = Number(process.env.BENCH_POOL ?? 60_000 * Math.max(SECONDS, SUSTAINED));
const DELIVERY_TIMEOUT_MS = 600_000;

const reference = referenceBinary();
console.error(`building ${POOL} signed requests…`);
const pool = Array.from({ length: POOL }, (_, i) => signedRequest("127.0.0.1", "/webhook", mixedBody(i), SECRET));

interface Measured {
  load: LoadResult;
  deliveredPerSec: number | null;
  loadedMB: number | null;
}

const burst = (port: number, seconds: number) => runLoad({ host: "127.0.0.1", port, connections: CONNECTIONS, durationMs: seconds * 1000, requests: pool });

async function bare(seconds: number): Promise<Measured> {
  const server = await spawnListening([process.execPath, join(root, "bench/bare-server.ts")], root);
  try {
    return { load: await burst(server.port, seconds), deliveredPerSec: null, loadedMB: null };
  } finally {
    await server.stop();
  }
}

const sinkCount = async (sink: Running) => ((await (await fetch(`http://127.0.0.1:${sink.port}/`)).json()) as { count: number }).count;

async function daemon(binary: string, seconds: number): Promise<Measured> {
  const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "wa-pipe-bench-"));
  const sink = await spawnListening([process.execPath, join(root, "bench/sink.ts")], root);
  const server = await spawnListening([binary, "--config", writeHookedConfig(dir, sink.port)], dir);
  try {
    const started = performance.now();
    const load = await burst(server.port, seconds);
    const loadedMB = await rssMB(server.proc.pid);
    while ((await sinkCount(sink)) < load.ok200) {
      if (performance.now() - started > DELIVERY_TIMEOUT_MS) throw new Error(`${binary}: not every event delivered within ${DELIVERY_TIMEOUT_MS / 1000} s`);
      await Bun.sleep(20);
    }
    return { load, deliveredPerSec: load.ok200 / ((performance.now() - started) / 1000), loadedMB };
  } finally {
    await server.stop();
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

type Round = { bare: Measured; reference: Measured; current: Measured };
const runRound = async (seconds: number): Promise<Round> => ({ bare: await bare(seconds), reference: await daemon(reference, seconds), current: await daemon(currentBinary, seconds) });
const bursts: Round[] = [];
for (let r = 0; r < ROUNDS; r++) bursts.push(await runRound(SECONDS));
const sustained: Round[] = SUSTAINED > 0 ? [await runRound(SUSTAINED)] : [];

const ratio = (n: number, base: Measured) => `${(n / base.load.rps).toFixed(2)}×`;
const row = (label: string, name: string, m: Measured, base: Measured) =>
  `| ${label} | ${name} | ${Math.round(m.load.rps).toLocaleString("en")} (${ratio(m.load.rps, base)}) | ${m.load.p99ms.toFixed(1)} | ` +
  `${m.deliveredPerSec === null ? "—" : `${Math.round(m.deliveredPerSec).toLocaleString("en")} (${ratio(m.deliveredPerSec, base)})`} | ${m.loadedMB === null ? "—" : `${Math.round(m.loadedMB)} MB`} |`;
const table = (label: string, rounds: Round[]) =>
  rounds.flatMap((r, i) => [
    row(`${label} ${i + 1}`, "bare Bun.serve + HMAC", r.bare, r.bare),
    row(`${label} ${i + 1}`, referenceLabel, r.reference, r.bare),
    row(`${label} ${i + 1}`, "this build", r.current, r.bare),
  ]);
const lines = [
  `Pipeline, ${new Date().toISOString().slice(0, 10)}, ${await machine()}`,
  `mixed signed POSTs (text, delivered, read, template quality; one event each), ${CONNECTIONS} connections, worker on, one hook at concurrency 64 to a local sink; reference = ${process.env.BENCH_REFERENCE_BINARY ?? REFERENCE}`,
  "",
  "| run | build | acks/s (× bare) | ack p99 ms | delivered events/s (× bare acks) | RSS after the burst |",
  "|---|---|---|---|---|---|",
  ...table(`${SECONDS} s burst`, bursts),
  ...table(`${SUSTAINED} s sustained`, sustained),
];
console.log(lines.join("\n"));
mkdirSync(join(root, "bench/out"), { recursive: true });
writeFileSync(join(root, "bench/out/pipeline.md"), lines.join("\n") + "\n");
