/**
 * Where the CPU goes, thread by thread (make bench-threads): the pipeline bench's burst
 * (mixed signed POSTs at 64 connections for BENCH_SECONDS, one hook at concurrency 64 to
 * a local sink, until the sink has every acknowledged event), on the pinned reference
 * and this build, alternating. For each, the CPU each of the daemon's threads spent per
 * acknowledged event (from /proc/<pid>/task/<tid>/stat), the burst and the drain apart.
 * The writer thread (the busiest "Worker") indexes, processes and dispatches; it is
 * the pipeline's ceiling, so its µs per event is the figure to watch for drift.
 * Knobs: BENCH_SECONDS (6), BENCH_ROUNDS (2), BENCH_CONNECTIONS (64).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { threadTicks, TICK_US } from "./cpu";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SECRET, writeHookedConfig } from "./config";
import { runLoad } from "./loadgen";
import { mixedBody, signedRequest } from "./payloads";
import { currentBinary, machine, REFERENCE, referenceBinary, referenceLabel, root } from "./reference";
import { spawnListening, type Running } from "./spawn";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);

const reference = referenceBinary();
console.error("building signed requests…");
const pool = Array.from({ length: 60_000 * SECONDS }, (_, i) => signedRequest("127.0.0.1", "/webhook", mixedBody(i), SECRET));

/** µs of CPU per event in each group of threads between two readings. */
function perEvent(before: ReturnType<typeof threadTicks>, after: ReturnType<typeof threadTicks>, events: number) {
  const spent = [...after].map(([tid, t]) => ({ name: t.name, us: ((t.ticks - (before.get(tid)?.ticks ?? 0)) * TICK_US) / events }));
  const workers = spent.filter((t) => t.name === "Worker").sort((a, b) => b.us - a.us);
  const writer = workers[0]?.us ?? 0;
  const request = spent.find((t) => t.name !== "Worker" && !/^(JIT|HTTP|Bun Pool|Heap|mi-|JSC|thread)/.test(t.name))?.us ?? 0;
  const http = spent.filter((t) => t.name.startsWith("HTTP")).reduce((n, t) => n + t.us, 0);
  const total = spent.reduce((n, t) => n + t.us, 0);
  return { request, writer, http, other: total - request - writer - http, total };
}

const sinkCount = async (sink: Running) => ((await (await fetch(`http://127.0.0.1:${sink.port}/`)).json()) as { count: number }).count;

async function measure(binary: string) {
  const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "wa-threads-"));
  const sink = await spawnListening([process.execPath, join(root, "bench/sink.ts")], root);
  const server = await spawnListening([binary, "--config", writeHookedConfig(dir, sink.port)], dir);
  try {
    const pid = server.proc.pid;
    const start = threadTicks(pid);
    const started = performance.now();
    const load = await runLoad({ host: "127.0.0.1", port: server.port, connections: CONNECTIONS, durationMs: SECONDS * 1000, requests: pool });
    const burstEnd = threadTicks(pid);
    while ((await sinkCount(sink)) < load.ok200) await Bun.sleep(20);
    const seconds = (performance.now() - started) / 1000;
    const drained = threadTicks(pid);
    return { acks: load.rps, delivered: load.ok200 / seconds, burst: perEvent(start, burstEnd, load.ok200), drain: perEvent(burstEnd, drained, load.ok200), all: perEvent(start, drained, load.ok200) };
  } finally {
    await server.stop();
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: string[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  for (const [name, binary] of [[referenceLabel, reference], ["this build", currentBinary]] as const) {
    const m = await measure(binary);
    const f = (n: number) => n.toFixed(0);
    rows.push(
      `| ${round} | ${name} | ${Math.round(m.acks).toLocaleString("en")} | ${Math.round(m.delivered).toLocaleString("en")} | ` +
        `${f(m.all.writer)} (${f(m.burst.writer)} + ${f(m.drain.writer)}) | ${f(m.all.request)} | ${f(m.all.http)} | ${f(m.all.other)} | ${f(m.all.total)} |`,
    );
  }
}
const lines = [
  `Threads, ${new Date().toISOString().slice(0, 10)}, ${await machine()}`,
  `pipeline burst: mixed signed POSTs, ${CONNECTIONS} connections for ${SECONDS} s, one hook at concurrency 64 to a local sink, until every acknowledged event is delivered; reference = ${process.env.BENCH_REFERENCE_BINARY ?? REFERENCE}`,
  "CPU µs per acknowledged event, by thread: the writer (burst + drain), the request thread, Bun's HTTP client, the rest (JIT, GC helpers, thread pool, checkpointer)",
  "",
  "| round | build | acks/s | delivered/s | writer µs | request µs | HTTP client µs | other µs | daemon µs |",
  "|---|---|---|---|---|---|---|---|---|",
  ...rows,
];
console.log(lines.join("\n"));
mkdirSync(join(root, "bench/out"), { recursive: true });
writeFileSync(join(root, "bench/out/threads.md"), lines.join("\n") + "\n");
