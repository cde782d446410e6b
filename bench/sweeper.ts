/**
 * Sweeper benchmarks (make bench-sweeper):
 *   1. One `stale` sweep over 1,000,000 tracked messages, 1% of them overdue, in
 *      process on a real SQLite file: duration and memory. Two shapes: (a) the usual
 *      day, 990,000 already delivered (deadlines passed, done) and 10,000 overdue;
 *      (b) 990,000 still in flight (deadlines ahead) and 10,000 overdue (the outage
 *      guard would hold this one, so max_stale_ratio = 1 for it).
 *   2. 10,000 SMS due at once on the compiled binary (registered through
 *      POST /v1/outbound, stale_after 2s, a local SMS sink in its own process), while
 *      signed webhooks arrive at BENCH_RATE (200/s): time from the deadline to the last
 *      SMS at the sink, and the webhooks' ack latency, against the same load measured
 *      just before with nothing due (baseline, same run).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { AlertsSchema, FallbackSchema, StorageSchema, SweeperSchema } from "../src/config/schema";
import { startCheckpointer } from "../src/store/checkpointer";
import { openDatabase } from "../src/store/db";
import { WRITER_CACHE_KIB } from "../src/config/defaults";
import { migrate } from "../src/store/migrate";
import { buildSweeper } from "../src/sweeper/start";
import { systemClock } from "../src/util/clock";
import { createLogger } from "../src/util/log";
import { runLoad } from "./loadgen";
import { signedRequest, textMessageBody } from "./payloads";
import { spawnListening } from "./spawn";

const root = resolve(import.meta.dir, "..");
const TOTAL = 1_000_000;
const OVERDUE = 10_000;
const quiet = createLogger("error", () => {});
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MiB`;

async function oneSweep(shape: "delivered" | "in-flight", steady: boolean) {
  const dir = mkdtempSync(join(tmpdir(), "wa-sweep-bench-"));
  // As the daemon's writer connection opens it (bench with BENCH_CACHE_KIB=2000 for SQLite's default cache).
  const cacheKiB = Number(process.env.BENCH_CACHE_KIB ?? WRITER_CACHE_KIB);
  const db = openDatabase(join(dir, "bench.db"), { synchronous: "full", busyTimeoutMs: 5000, autoCheckpoint: false, cacheKiB });
  migrate(db);
  const now = Date.now();
  const insert = db.prepare(
    `INSERT INTO tracked_messages (wamid, recipient, text, category, fallback, sent_at, delivered_at, deadline, expires_at, state, created_at, updated_at)
     VALUES (?1, '16505551234', 'Your code is 123456', 'authentication', 'auto', ?2, ?3, ?4, ?5, ?6, ?2, ?2)`,
  );
  const fill = db.transaction(() => {
    for (let i = 0; i < TOTAL; i++) {
      const overdue = i % (TOTAL / OVERDUE) === 0;
      // Deadlines spread over the last 30 minutes (or the next 30 for shape b's in-flight rows).
      const deadline = overdue ? now - 1_000 - (i % 1_800_000) : shape === "delivered" ? now - (i % 1_800_000) : now + 60_000 + (i % 1_800_000);
      const done = !overdue && shape === "delivered";
      insert.run(`wamid.B${i}`, deadline - 900_000, done ? deadline - 600_000 : null, deadline, deadline + 3_600_000, done ? "done" : "tracked");
    }
  });
  fill.immediate();
  db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  const settings = {
    fallback: FallbackSchema.parse({ enabled: true, max_stale_ratio: shape === "in-flight" ? 1 : 0.5, sms: { url: "http://127.0.0.1:9/sms" } }),
    sweeper: SweeperSchema.parse({}),
    hooks: [],
    alerts: AlertsSchema.parse({}),
    storage: StorageSchema.parse({}),
  };
  // Steady state: the previous sweep ran 15 s ago (the guard looks at 15 s of deadlines); else the first sweep ever (an hour).
  if (steady) db.run("INSERT INTO job_runs (name, last_finished_at) VALUES ('stale', ?)", [now - 15_000]);
  const { jobs } = buildSweeper(db, settings, systemClock, quiet, "bench");
  // As in the daemon: the writer never checkpoints, the checkpoint thread does, alongside.
  const checkpointer = startCheckpointer(join(dir, "bench.db"), "full", quiet);
  Bun.gc(true);
  const before = process.memoryUsage();
  let peakRss = before.rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 5);
  const t0 = performance.now();
  const run = await jobs.run("stale");
  const ms = performance.now() - t0;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  await checkpointer.stop();
  const pending = db.query<{ n: number }, []>("SELECT count(*) n FROM fallback_sends WHERE state = 'pending'").get()!.n;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(
    `sweep (${shape}, ${steady ? "previous sweep 15 s ago" : "first sweep ever"}): ${TOTAL.toLocaleString()} tracked, ${OVERDUE.toLocaleString()} overdue → ${pending.toLocaleString()} SMS decided in ${ms.toFixed(0)} ms` +
      ` (batches of ${settings.sweeper.batch_size}); rss ${mib(before.rss)} → peak ${mib(peakRss)}; result ${JSON.stringify(run.ran ? run.result : run)}`,
  );
}

async function smsStorm() {
  const rate = Number(process.env.BENCH_RATE ?? 200);
  const dir = mkdtempSync(join(tmpdir(), "wa-sms-bench-"));
  const sink = await spawnListening([process.execPath, join(import.meta.dir, "sink.ts")], dir);
  const secret = "bench-secret";
  const token = "bench-admin-token-0000";
  writeFileSync(
    join(dir, "config.toml"),
    `[server]\nlisten = "127.0.0.1:0"\n[storage]\npath = "${dir}/bench.db"\n[whatsapp]\nverify_token = "b"\napp_secrets = ["${secret}"]\n[admin]\ntoken = "${token}"\n` +
      `[sweeper]\nschedule = "* * * * * *"\nfallback_schedule = "* * * * * *"\nbatch_size = ${Number(process.env.BENCH_BATCH ?? 100)}\n` +
      `[fallback]\nenabled = true\nstale_after = "2s"\nmax_stale_ratio = 1.0\n[fallback.sms]\nurl = "http://127.0.0.1:${sink.port}/sms"\n`,
    { mode: 0o600 },
  );
  const daemon = await spawnListening([join(root, "dist/wa-webhookd"), "--config", join(dir, "config.toml")], dir);
  let n = 0;
  const load = (seconds: number) =>
    runLoad({ host: "127.0.0.1", port: daemon.port, connections: 8, durationMs: seconds * 1000, rate, requests: Array.from({ length: rate * seconds + 100 }, () => signedRequest("127.0.0.1", "/webhook", textMessageBody(n++), secret)) });
  const count = async () => ((await (await fetch(`http://127.0.0.1:${sink.port}/`)).json()) as { count: number; last: number });

  const baseline = await load(10);
  const registered = Date.now();
  for (let b = 0; b < 10; b++) {
    const items = Array.from({ length: 1000 }, (_, i) => ({ wamid: `wamid.S${b * 1000 + i}`, to: "+16505551234", text: "Your code is 123456", category: "authentication" }));
    const res = await fetch(`http://127.0.0.1:${daemon.port}/v1/outbound`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(items) });
    if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
  }
  const due = Date.now() + 2_000; // the last registration's deadline
  const during = load(20);
  let sms = await count();
  while (sms.count < OVERDUE && Date.now() < due + 60_000) {
    await Bun.sleep(100);
    sms = await count();
  }
  const storm = await during;
  console.log(`registered 10,000 in ${due - 2_000 - registered} ms; all due by ${new Date(due).toISOString()}`);
  console.log(`SMS at the sink: ${sms.count.toLocaleString()}; the last ${((sms.last - due) / 1000).toFixed(1)} s after the last deadline (schedules tick every second)`);
  const line = (name: string, r: Awaited<ReturnType<typeof runLoad>>) =>
    `${name}: ${r.ok200}/${r.requests} acked at ${r.rps.toFixed(0)} req/s, p50 ${r.p50ms.toFixed(1)} ms, p99 ${r.p99ms.toFixed(1)} ms, max ${r.maxms.toFixed(1)} ms`;
  console.log(line("ingestion, nothing due (baseline)", baseline));
  console.log(line("ingestion while 10,000 SMS go out", storm));
  await daemon.stop();
  await sink.stop();
  rmSync(dir, { recursive: true, force: true });
}

const only = process.env.BENCH_ONLY;
if (!only || only === "sweep") {
  await oneSweep("delivered", false);
  await oneSweep("delivered", true);
  await oneSweep("in-flight", true);
}
if (!only || only === "sms") await smsStorm();
