/**
 * The PostgreSQL engine (make bench-postgres), against the server at WA_TEST_PG_URL (the
 * local one by default), in one run beside the bare Bun.serve + HMAC server and the
 * SQLite engine of this build:
 *
 * - a burst of mixed signed POSTs at BENCH_CONNECTIONS (64) for BENCH_SECONDS (6), spread
 *   over 1, 2 and 3 instances sharing one database, one hook at concurrency 64 to a
 *   local sink, until the sink has every acknowledged event: acks/s, ack p99, delivered
 *   events/s (each as a ratio to the bare server's acks), and per event what the
 *   database did (transactions, rows written: pg_stat_database over the run);
 * - idle: transactions per second three idle instances cost the database, and how
 *   long a single webhook posted to one of them takes to reach the hook (LISTEN/NOTIFY
 *   wake-ups). BENCH_POLL_BINARY=path runs the same idle figures on another build (the
 *   one before wake-ups polled every 20 ms) for comparison.
 *
 * On 2 shared cores more instances cannot show scaling (the instances, PostgreSQL and the
 * load generator share them): the per-event figures are the point. Writes
 * bench/out/postgres.md.
 */
import { SQL } from "bun";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SECRET, writeHookedConfig } from "./config";
import { runLoad, type LoadResult } from "./loadgen";
import { mixedBody, signedRequest } from "./payloads";
import { currentBinary, machine, root } from "./reference";
import { spawnListening, type Running } from "./spawn";

const PG_URL = process.env.WA_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const POOL = 60_000 * SECONDS;
const WHSEC = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;

console.error(`building ${POOL} signed requests…`);
const requests = Array.from({ length: POOL }, (_, i) => signedRequest("127.0.0.1", "/webhook", mixedBody(i), SECRET));
const admin = new SQL(PG_URL, { max: 1 });

interface Measured {
  rps: number;
  p99ms: number;
  deliveredPerSec: number | null;
  perEvent: { xacts: number; rows: number; instanceCpuUs: number; postgresCpuUs: number } | null;
}

/** CPU seconds (user + system) the processes have used so far, from /proc. */
function cpuSeconds(pids: number[]): number {
  const tick = 100; // USER_HZ on Linux
  let total = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
      total += (Number(fields[11]) + Number(fields[12])) / tick;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** The PostgreSQL server's processes (postmaster, backends, writers) on this machine. */
const postgresPids = () => Bun.spawnSync(["pgrep", "-u", "postgres"]).stdout.toString().trim().split("\n").filter(Boolean).map(Number);

async function freshDatabase(): Promise<string> {
  const name = `wa_bench_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

const dropDatabase = (url: string) => admin.unsafe(`DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`);

function pgConfig(dir: string, url: string, instance: string, sinkPort: number): string {
  const path = join(dir, `${instance}.toml`);
  writeFileSync(
    path,
    `[server]\nlisten = "127.0.0.1:0"\ninstance = "${instance}"\n[storage]\nengine = "postgres"\nurl = "${url}"\npool = 16\n` +
      `[whatsapp]\nverify_token = "b"\napp_secrets = ["${SECRET}"]\n[admin]\ntoken = "bench-admin-token-0000"\n` +
      `[[hooks]]\nname = "sink"\nurl = "http://127.0.0.1:${sinkPort}/hook"\nsecret = "${WHSEC}"\nconcurrency = 64\n`,
    { mode: 0o600 },
  );
  return path;
}

const sinkCount = async (sink: Running) => ((await (await fetch(`http://127.0.0.1:${sink.port}/`)).json()) as { count: number }).count;

/** `connections` spread over the servers, each with its own slice of the requests. */
async function spreadLoad(ports: number[], seconds: number): Promise<LoadResult[]> {
  const per = Math.floor(requests.length / ports.length);
  return Promise.all(
    ports.map((port, i) =>
      runLoad({ host: "127.0.0.1", port, connections: Math.floor(CONNECTIONS / ports.length), durationMs: seconds * 1000, requests: requests.slice(i * per, (i + 1) * per) }),
    ),
  );
}

async function dbCounters(url: string) {
  const sql = new SQL(url, { max: 1 });
  try {
    const [r] = await sql`SELECT xact_commit::float8 AS x, (tup_inserted + tup_updated + tup_deleted)::float8 AS rows FROM pg_stat_database WHERE datname = current_database()`;
    return { xacts: r.x as number, rows: r.rows as number };
  } finally {
    await sql.close();
  }
}

async function bare(): Promise<Measured> {
  const server = await spawnListening([process.execPath, join(root, "bench/bare-server.ts")], root);
  try {
    const [load] = await spreadLoad([server.port], SECONDS);
    return { rps: load!.rps, p99ms: load!.p99ms, deliveredPerSec: null, perEvent: null };
  } finally {
    await server.stop();
  }
}

async function untilDelivered(sink: Running, acked: number, started: number): Promise<number> {
  while ((await sinkCount(sink)) < acked) {
    if (performance.now() - started > 600_000) throw new Error("not every event delivered within 600 s");
    await Bun.sleep(20);
  }
  return acked / ((performance.now() - started) / 1000);
}

async function sqlite(): Promise<Measured> {
  const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "wa-pg-bench-"));
  const sink = await spawnListening([process.execPath, join(root, "bench/sink.ts")], root);
  const server = await spawnListening([currentBinary, "--config", writeHookedConfig(dir, sink.port)], dir);
  try {
    const started = performance.now();
    const [load] = await spreadLoad([server.port], SECONDS);
    return { rps: load!.rps, p99ms: load!.p99ms, deliveredPerSec: await untilDelivered(sink, load!.ok200, started), perEvent: null };
  } finally {
    await server.stop();
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function cluster(binary: string, n: number, url: string, sink: Running, dir: string): Promise<Running[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => spawnListening([binary, "--config", pgConfig(dir, url, `wa-${i + 1}`, sink.port)], dir)));
}

async function postgres(n: number): Promise<Measured> {
  const url = await freshDatabase();
  const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "wa-pg-bench-"));
  const sink = await spawnListening([process.execPath, join(root, "bench/sink.ts")], root);
  const instances = await cluster(currentBinary, n, url, sink, dir);
  try {
    const before = await dbCounters(url);
    const pids = instances.map((s) => s.proc.pid);
    const cpuBefore = { instances: cpuSeconds(pids), postgres: cpuSeconds(postgresPids()) };
    const started = performance.now();
    const loads = await spreadLoad(instances.map((s) => s.port), SECONDS);
    const acked = loads.reduce((a, l) => a + l.ok200, 0);
    const deliveredPerSec = await untilDelivered(sink, acked, started);
    const cpu = { instances: cpuSeconds(pids) - cpuBefore.instances, postgres: cpuSeconds(postgresPids()) - cpuBefore.postgres };
    const after = await dbCounters(url);
    return {
      rps: loads.reduce((a, l) => a + l.rps, 0),
      p99ms: Math.max(...loads.map((l) => l.p99ms)),
      deliveredPerSec,
      perEvent: { xacts: (after.xacts - before.xacts) / acked, rows: (after.rows - before.rows) / acked, instanceCpuUs: (cpu.instances * 1e6) / acked, postgresCpuUs: (cpu.postgres * 1e6) / acked },
    };
  } finally {
    await Promise.all(instances.map((s) => s.stop()));
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
    await dropDatabase(url);
  }
}

/** Three idle instances: the database's transactions per second, and one webhook's time from its 200 to the hook. */
async function idle(binary: string) {
  const url = await freshDatabase();
  const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "wa-pg-bench-"));
  const sink = await spawnListening([process.execPath, join(root, "bench/sink.ts")], root);
  const instances = await cluster(binary, 3, url, sink, dir);
  try {
    await Bun.sleep(2_000);
    const before = await dbCounters(url);
    await Bun.sleep(10_000);
    const after = await dbCounters(url);
    const waits: number[] = [];
    for (let i = 0; i < 20; i++) {
      await Bun.sleep(1_300 + ((i * 97) % 500)); // idle again, at a point of the look-interval that varies
      const seen = await sinkCount(sink);
      const res = await fetch(`http://127.0.0.1:${instances[0]!.port}/webhook`, { method: "POST", body: mixedBody(i), headers: { "x-hub-signature-256": sign(mixedBody(i)) } });
      if (res.status !== 200) throw new Error(`POST answered ${res.status}`);
      const t = performance.now();
      while ((await sinkCount(sink)) <= seen) await Bun.sleep(2);
      waits.push(performance.now() - t);
    }
    waits.sort((a, b) => a - b);
    return { xactsPerSec: (after.xacts - before.xacts) / 10, medianMs: waits[10]!, p90Ms: waits[18]! };
  } finally {
    await Promise.all(instances.map((s) => s.stop()));
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
    await dropDatabase(url);
  }
}

function sign(body: string): string {
  return `sha256=${new Bun.CryptoHasher("sha256", SECRET).update(body).digest("hex")}`;
}

const rows: string[] = [];
const ratio = (v: number, base: Measured) => `${(v / base.rps).toFixed(2)}×`;
const line = (label: string, m: Measured, base: Measured) =>
  `| ${label} | ${Math.round(m.rps).toLocaleString("en")} (${ratio(m.rps, base)}) | ${m.p99ms.toFixed(1)} | ` +
  `${m.deliveredPerSec === null ? "—" : `${Math.round(m.deliveredPerSec).toLocaleString("en")} (${ratio(m.deliveredPerSec, base)})`} | ` +
  `${m.perEvent ? `${m.perEvent.xacts.toFixed(2)} / ${m.perEvent.rows.toFixed(1)} / ${Math.round(m.perEvent.instanceCpuUs)} / ${Math.round(m.perEvent.postgresCpuUs)}` : "—"} |`;
for (let r = 1; r <= ROUNDS; r++) {
  const base = await bare();
  rows.push(line(`round ${r}: bare Bun.serve + HMAC`, base, base));
  rows.push(line(`round ${r}: SQLite engine, 1 daemon`, await sqlite(), base));
  for (const n of [1, 2, 3]) rows.push(line(`round ${r}: PostgreSQL engine, ${n} instance${n > 1 ? "s" : ""}`, await postgres(n), base));
}
const idleRows = [`| this build (LISTEN/NOTIFY, looks every 1 s) | ${fmtIdle(await idle(currentBinary))} |`];
if (process.env.BENCH_POLL_BINARY) idleRows.push(`| BENCH_POLL_BINARY (polls every 20 ms) | ${fmtIdle(await idle(process.env.BENCH_POLL_BINARY))} |`);
await admin.close();

function fmtIdle(i: { xactsPerSec: number; medianMs: number; p90Ms: number }) {
  return `${Math.round(i.xactsPerSec)} | ${i.medianMs.toFixed(0)} / ${i.p90Ms.toFixed(0)}`;
}

const [{ version }] = await new SQL(PG_URL, { max: 1 })`SELECT split_part(version(), ' ', 2) AS version`;
const out = [
  `PostgreSQL engine, ${new Date().toISOString().slice(0, 10)}, ${await machine()}, PostgreSQL ${version} on the same machine`,
  `mixed signed POSTs, ${CONNECTIONS} connections spread over the instances, ${SECONDS} s bursts, one hook at concurrency 64 to a local sink`,
  "",
  "| run | acks/s (× bare) | ack p99 ms | delivered events/s (× bare acks) | per event: transactions / rows written / instances' CPU µs / PostgreSQL's CPU µs |",
  "|---|---|---|---|---|",
  ...rows,
  "",
  "| three idle instances | database transactions/s | one webhook, 200 → hook: median / p90 ms |",
  "|---|---|---|",
  ...idleRows,
];
console.log(out.join("\n"));
mkdirSync(join(root, "bench/out"), { recursive: true });
writeFileSync(join(root, "bench/out/postgres.md"), out.join("\n") + "\n");
