/**
 * Hardening benchmarks (make bench-hardening), on the compiled binary with a hook to a
 * local sink:
 *   1. Sustained load: the pipeline's maximum is measured (pipelineMax), then webhooks
 *      arrive at half that rate for BENCH_SUSTAIN_SECONDS (180); the backlog's age (how
 *      long the oldest unprocessed webhook has waited) is sampled every second.
 *   2. One huge POST (100,000 events, ~13 MB) while small webhooks arrive at 200/s: the
 *      small ones' ack latency until the huge one is processed.
 * BENCH_COMPARE=path/to/other/wa-webhookd runs both on that build too, in the same run;
 * BENCH_ONLY=sustained or huge runs one part; BENCH_RATE fixes the sustained rate.
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runLoad } from "./loadgen";
import { signedRequest, textMessageBody } from "./payloads";
import { hubSignature } from "../src/ingest/signature";
import { spawnListening } from "./spawn";

const SECRET = "bench-secret";
const WHSEC = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
const SUSTAIN_SECONDS = Number(process.env.BENCH_SUSTAIN_SECONDS ?? 180);
const root = resolve(import.meta.dir, "..");
const builds: [name: string, binary: string][] = [["this build", join(root, "dist/wa-webhookd")]];
if (process.env.BENCH_COMPARE) builds.push(["BENCH_COMPARE build", process.env.BENCH_COMPARE]);

async function daemon(binary: string, sinkPort: number, workerEnabled = true) {
  const dir = mkdtempSync(join(tmpdir(), "wa-hard-bench-"));
  writeFileSync(
    join(dir, "config.toml"),
    `[server]\nlisten = "127.0.0.1:0"\nmax_body_bytes = 33554432\n[worker]\nenabled = ${workerEnabled}\n[storage]\npath = "${dir}/bench.db"\n` +
      `[whatsapp]\nverify_token = "b"\napp_secrets = ["${SECRET}"]\n[admin]\ntoken = "bench-admin-token-0000"\n` +
      `[[hooks]]\nname = "sink"\nurl = "http://127.0.0.1:${sinkPort}/hook"\nsecret = "${WHSEC}"\nconcurrency = 64\n`,
    { mode: 0o600 },
  );
  const server = await spawnListening([binary, "--config", join(dir, "config.toml")], dir);
  const db = new Database(join(dir, "bench.db"), { readonly: true });
  return {
    server,
    backlogAgeMs: () => {
      const row = db.query<{ at: number | null }, []>("SELECT min(received_at) at FROM inbox WHERE state IN ('pending', 'processing')").get();
      return row?.at ? Date.now() - row.at : 0;
    },
    pending: () => db.query<{ n: number }, []>("SELECT count(*) n FROM inbox WHERE state <> 'done'").get()!.n,
    done: (id: number) => db.query<{ state: string }, [number]>("SELECT state FROM inbox WHERE id = ?").get(id)?.state === "done",
    stop: async () => {
      db.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let counter = 0;
const requests = (n: number) => Array.from({ length: n }, () => signedRequest("127.0.0.1", "/webhook", textMessageBody(counter++), SECRET));

/**
 * What the whole pipeline sustains: a closed-loop burst for 10 s, then the time until
 * every webhook of it is processed. (Acks alone would overstate it: during a short
 * burst the worker yields the writer thread to ingestion, worker/share.ts.)
 */
async function pipelineMax(binary: string, sinkPort: number) {
  const d = await daemon(binary, sinkPort);
  const start = performance.now();
  const burst = await runLoad({ host: "127.0.0.1", port: d.server.port, connections: 64, durationMs: 10_000, requests: requests(400_000) });
  while (d.pending() > 0) await Bun.sleep(50);
  const seconds = (performance.now() - start) / 1000;
  await d.stop();
  return { acked: burst.rps, sustained: burst.ok200 / seconds };
}

async function sustained(binary: string, sinkPort: number, rate: number) {
  const d = await daemon(binary, sinkPort);
  let maxAge = 0;
  let ageAtEnd = 0;
  const sampler = setInterval(() => (maxAge = Math.max(maxAge, d.backlogAgeMs())), 1_000);
  const load = await runLoad({ host: "127.0.0.1", port: d.server.port, connections: 32, durationMs: SUSTAIN_SECONDS * 1000, requests: requests(rate * SUSTAIN_SECONDS + 1000), rate });
  clearInterval(sampler);
  ageAtEnd = d.backlogAgeMs();
  const drainStart = performance.now();
  while (d.pending() > 0) await Bun.sleep(100);
  const drainSec = (performance.now() - drainStart) / 1000;
  await d.stop();
  return { achieved: load.rps, p99: load.p99ms, non2xx: load.non2xx + load.errors, maxAge, ageAtEnd, drainSec };
}

/** `events` short text messages in one POST, 1,000 per change (~130 bytes each). */
function hugeBody(events: number): string {
  const one = JSON.parse(textMessageBody(0));
  const value = one.entry[0].changes[0].value;
  const message = (id: string) => ({ from: "16505551234", id, timestamp: "1749416383", type: "text", text: { body: "ok" } });
  const changes = Array.from({ length: events / 1000 }, (_, c) => ({
    field: "messages",
    value: { ...value, messages: Array.from({ length: 1000 }, (_, i) => message(`wamid.HUGE.${c}.${i}`)) },
  }));
  return JSON.stringify({ object: "whatsapp_business_account", entry: [{ id: one.entry[0].id, changes }] });
}

async function hugePost(binary: string, sinkPort: number, workerEnabled = true) {
  const d = await daemon(binary, sinkPort, workerEnabled);
  const huge = hugeBody(100_000);
  const small = runLoad({ host: "127.0.0.1", port: d.server.port, connections: 8, durationMs: 60_000, requests: requests(200 * 60), rate: 200 });
  await Bun.sleep(2_000);
  // fetch, not the load generator: its raw socket writes assume a request fits the socket buffer.
  const start = performance.now();
  const hugeAnswer = await fetch(`http://127.0.0.1:${d.server.port}/webhook`, {
    method: "POST",
    body: huge,
    headers: { "content-type": "application/json", "x-hub-signature-256": hubSignature(huge, SECRET) },
  });
  const hugeId = ((await hugeAnswer.json()) as { id: number }).id;
  while (workerEnabled && !d.done(hugeId) && performance.now() - start < 55_000) await Bun.sleep(50);
  const processedSec = (performance.now() - start) / 1000;
  const result = await small;
  await d.stop();
  return { bytes: huge.length, hugeStatus: hugeAnswer.status, processedSec, p99: result.p99ms, max: result.maxms, non2xx: result.non2xx + result.errors };
}

const only = process.env.BENCH_ONLY ?? "sustained,huge";
const sink = await spawnListening([process.execPath, join(root, "bench/sink.ts")], root);
const lines = [`Hardening, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Bun ${Bun.version}`, ""];
if (only.includes("sustained")) {
  // One rate for every build: half of what this build's pipeline sustains (or BENCH_RATE).
  const max = await pipelineMax(builds[0]![1], sink.port);
  const rate = Number(process.env.BENCH_RATE ?? Math.round(max.sustained / 2));
  lines.push(
    `Pipeline maximum (this build, worker and hook running, 10 s burst until all processed): ${Math.round(max.sustained).toLocaleString("en")} req/s ` +
      `(acked at ${Math.round(max.acked).toLocaleString("en")} req/s); sustained load: ${rate.toLocaleString("en")} req/s for ${SUSTAIN_SECONDS} s.`,
    "",
  );
  lines.push(`| build | achieved | p99 ms | non-2xx | max backlog age | age at end | drain after |`, "|---|---|---|---|---|---|---|");
  for (const [name, binary] of builds) {
    const r = await sustained(binary, sink.port, rate);
    lines.push(`| ${name} | ${Math.round(r.achieved).toLocaleString("en")} req/s | ${r.p99.toFixed(1)} | ${r.non2xx} | ${(r.maxAge / 1000).toFixed(1)} s | ${(r.ageAtEnd / 1000).toFixed(1)} s | ${r.drainSec.toFixed(1)} s |`);
    console.log(lines.at(-1));
  }
}
if (only.includes("huge")) {
lines.push("", `| build | huge POST | processed in | small POSTs (200/s) ack p99 | max | non-2xx |`, "|---|---|---|---|---|---|");
for (const [name, binary, workerEnabled] of [...builds.map(([n, b]) => [n, b, true] as const), [`${builds[0]![0]}, worker off (ingestion alone)`, builds[0]![1], false] as const]) {
  const r = await hugePost(binary, sink.port, workerEnabled);
  lines.push(`| ${name} | ${(r.bytes / 1e6).toFixed(1)} MB, 100,000 events: ${r.hugeStatus} | ${r.processedSec.toFixed(1)} s | ${r.p99.toFixed(1)} ms | ${r.max.toFixed(1)} ms | ${r.non2xx} |`);
  console.log(lines.at(-1));
}
}
await sink.stop();
console.log("\n" + lines.join("\n"));
