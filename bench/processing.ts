/**
 * Processing alone (make bench-processing): µs per event of the pipeline bench's mix
 * (text messages, delivered and read statuses, template quality updates), one hook.
 *
 * 1. On the binaries, the pinned reference build and this one, alternating: webhooks are
 *    stored with the worker off, then the daemon starts with it on and a hook that never
 *    answers (so deliveries are created, and dispatch costs next to nothing); the figure
 *    is the span of the inbox rows' `processed_at` over the events (after the first
 *    quarter, and over all of them). Same harness for both builds, whatever their code
 *    looks like inside.
 * 2. In process, this tree only: the processor drains a real SQLite file opened as the
 *    writer thread opens it, with the checkpoint thread running beside it as in the
 *    daemon; then the dispatcher's bookkeeping for those deliveries without HTTP (claim
 *    and record, 32 per transaction as under load), µs per delivery. Use it to profile.
 * Knobs: BENCH_EVENTS (40000; the first quarter is reported apart, see WARM_UP), BENCH_ROUNDS (3), BENCH_BATCH (200: jobs per pass in process).
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLoad } from "./loadgen";
import { mixedBody, signedRequest } from "./payloads";
import { currentBinary, machine, referenceBinary, referenceLabel } from "./reference";
import { spawnListening } from "./spawn";
import { inProcess } from "./processing-in-process";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 40_000);
/**
 * A daemon just started runs its processing code in JavaScriptCore's lower tiers for
 * about its first second (measured: 35 µs per event of pulling and normalizing against
 * 17–20 once compiled): the first quarter of the events is reported apart, and the rest
 * is the steady state a running daemon has.
 */
const WARM_UP = Math.floor(EVENTS / 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECRET = "bench-secret";
const WHSEC = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;

/** A hook that accepts connections and never answers: deliveries stay claimed, dispatch idles. */
const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });

function config(dir: string, worker: boolean): string {
  const path = join(dir, `config-${worker}.toml`);
  writeFileSync(
    path,
    `[server]\nlisten = "127.0.0.1:0"\n[storage]\npath = "${dir}/bench.db"\n[whatsapp]\nverify_token = "b"\napp_secrets = ["${SECRET}"]\n` +
      `[admin]\ntoken = "bench-admin-token-0000"\n[worker]\nenabled = ${worker}\n` +
      `[[hooks]]\nname = "silent"\nurl = "http://127.0.0.1:${silent.port}/hook"\nsecret = "${WHSEC}"\nconcurrency = 1\ntimeout = "10m"\n`,
    { mode: 0o600 },
  );
  return path;
}

/** µs per event: over the whole run, and after the first WARM_UP events (JIT warmed up). */
async function onBinary(binary: string): Promise<{ whole: number; warm: number }> {
  const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "wa-proc-bench-"));
  try {
    const ingest = await spawnListening([binary, "--config", config(dir, false)], dir);
    const requests = Array.from({ length: EVENTS }, (_, i) => signedRequest("127.0.0.1", "/webhook", mixedBody(i), SECRET));
    const load = await runLoad({ host: "127.0.0.1", port: ingest.port, connections: 16, durationMs: 600_000, requests });
    await ingest.stop();
    if (load.ok200 !== EVENTS) throw new Error(`${binary}: ${load.ok200} of ${EVENTS} stored`);
    const worker = await spawnListening([binary, "--config", config(dir, true)], dir);
    const db = new Database(join(dir, "bench.db"), { readonly: true });
    const left = () => db.query<{ n: number }, []>("SELECT count(*) n FROM inbox WHERE state <> 'done'").get()!.n;
    while (left() > 0) await Bun.sleep(50);
    const span = db.query<{ first: number; last: number }, []>("SELECT min(processed_at) first, max(processed_at) last FROM inbox").get()!;
    const warmFrom = db.query<{ at: number }, [number]>("SELECT processed_at at FROM inbox ORDER BY processed_at LIMIT 1 OFFSET ?").get(WARM_UP)!.at;
    db.close();
    await worker.stop();
    return { whole: ((span.last - span.first) * 1000) / (EVENTS - 1), warm: ((span.last - warmFrom) * 1000) / (EVENTS - 1 - WARM_UP) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const reference = referenceBinary();
const binaries: { reference: { whole: number; warm: number }[]; current: { whole: number; warm: number }[] } = { reference: [], current: [] };
for (let r = 0; r < ROUNDS; r++) {
  binaries.reference.push(await onBinary(reference));
  binaries.current.push(await onBinary(currentBinary));
}
silent.stop(true);
const local = await inProcess(EVENTS, ROUNDS);

const us = (xs: number[]) => xs.map((x) => Math.round(x)).join(", ");
const lines = [
  `Processing, ${new Date().toISOString().slice(0, 10)}, ${await machine()}`,
  `${EVENTS.toLocaleString("en")} webhooks of the pipeline mix, one event each, one hook; ${ROUNDS} rounds, alternating`,
  "",
  `| measure | ${referenceLabel} | this build |`,
  "|---|---|---|",
  `| µs per event, on the binary, after the first ${WARM_UP.toLocaleString("en")} (span of processed_at) | ${us(binaries.reference.map((b) => b.warm))} | ${us(binaries.current.map((b) => b.warm))} |`,
  `| µs per event, on the binary, the whole run from a cold start | ${us(binaries.reference.map((b) => b.whole))} | ${us(binaries.current.map((b) => b.whole))} |`,
  `| µs per event, in process (writer's settings, checkpoint thread beside) | — | ${us(local.perEvent)} |`,
  `| µs per delivery of dispatch bookkeeping, in process (claim + record, 32 per transaction) | — | ${us(local.perDelivery)} |`,
];
console.log(lines.join("\n"));
