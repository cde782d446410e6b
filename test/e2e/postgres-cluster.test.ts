/**
 * Several instances of the compiled binary sharing one real PostgreSQL database: three
 * starting at once on an empty database all start (migrated once); one POST retried to
 * all three is one event, delivered once; a second live instance under a taken name is
 * refused; kill -9 of one instance under load loses nothing and doubles nothing (its
 * webhooks are in the database, its leases come back when it restarts or run out for the
 * others); PostgreSQL restarted under load answers 503 while it is down and the
 * instances recover without a restart, every acknowledged POST delivered once.
 */
import { expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, requireBinary, startDaemon, stopAfterEach, tempDir, waitFor, writeConfig, type Daemon } from "../support/daemon";
import { freshDatabase, PG_URL } from "../support/postgres";
import { closedPort, Sink } from "../support/sink";
import { SilentProxy } from "../support/tcp-proxy";
import { burst, signedPost, statusesPayload, textMessage } from "../support/webhooks";
import { fastFallbackToml, hookToml, WHSEC } from "../support/pipeline";
import { SQL } from "bun";

requireBinary();

const { daemons, sinks } = stopAfterEach();

function clusterConfig(url: string, instance: string, hookUrl: string, extra = ""): string {
  const dir = tempDir("wa-pg-");
  const path = join(dir, "config.toml");
  writeFileSync(
    path,
    `[server]
listen = "127.0.0.1:0"
instance = "${instance}"
shutdown_timeout = "5s"
[storage]
engine = "postgres"
url = "${url}"
pool = 6
lock_timeout = "2s"
[worker]
lease = "3s"
[whatsapp]
verify_token = "vt"
app_secrets = ["e2e-secret-one"]
[admin]
token = "e2e-admin-token-0123456789"
[[hooks]]
name = "app"
url = "${hookUrl}"
secret = "${WHSEC}"
timeout = "2s"
retry_schedule = ["1s", "1s", "1s", "1s", "1s", "1s", "1s", "1s"]
${extra}
`,
    { mode: 0o600 },
  );
  return path;
}

async function cluster(n: number, extra = "") {
  const url = await freshDatabase();
  const sink = new Sink().start();
  sinks.push(sink);
  const configs = Array.from({ length: n }, (_, i) => clusterConfig(url, `wa-${i + 1}`, sink.url, extra));
  const started = await Promise.all(configs.map((c) => startDaemon(c)));
  daemons.push(...started);
  return { url, sink, configs, instances: started };
}

const idsAt = (sink: Sink) => sink.received.map((r) => r.headers["webhook-id"]!);

test("three instances at once on an empty database all start; one POST retried to all three is one event, delivered once", async () => {
  const { url, sink, instances } = await cluster(3);
  const sql = new SQL(url, { max: 1 });
  try {
    expect([...(await sql`SELECT version FROM schema_migrations ORDER BY version`)].length).toBeGreaterThan(0);
    const body = textMessage("wamid.CLUSTER1", "one POST, three instances");
    const answers = await Promise.all(instances.map((d) => signedPost(`${d.url}/webhook`, body)));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    await waitFor(() => sink.received.length >= 1, 10_000);
    await Bun.sleep(500);
    expect(sink.received).toHaveLength(1);
    const [{ n }] = await sql`SELECT count(*)::int AS n FROM inbox WHERE state = 'done'`;
    expect(n).toBe(3);
    const [{ d }] = await sql`SELECT duplicates AS d FROM dedup_keys`;
    expect(d).toBe(2);
    for (const d of instances) expect((await fetch(`${d.url}/readyz`)).status).toBe(200);
  } finally {
    await sql.close();
  }
});

test("a second live instance under a taken name is refused, naming server.instance; the first keeps serving", async () => {
  const { url, sink, instances } = await cluster(1);
  const twin = Bun.spawn([BINARY, "--config", clusterConfig(url, "wa-1", sink.url)], { stdout: "pipe", stderr: "pipe" });
  expect(await twin.exited).toBe(1);
  const said = (await new Response(twin.stdout).text()) + (await new Response(twin.stderr).text());
  expect(said).toContain('server.instance: another live instance runs as \\"wa-1\\"');
  expect((await signedPost(`${instances[0]!.url}/webhook`, textMessage("wamid.TWIN"))).status).toBe(200);
});

test("kill -9 of one instance under load: every acknowledged POST delivered once; its leases come back when it restarts", async () => {
  const { sink, configs, instances } = await cluster(3);
  const acked = new Set<string>();
  const loads = instances.map((d, i) => burst(`${d.url}/webhook`, 4, (n) => textMessage(`wamid.K${i}_${n}`, `load ${i} ${n}`), (_res, body) => void acked.add(JSON.parse(body).entry[0].changes[0].value.messages[0].id)));
  await Bun.sleep(1_500);
  instances[1]!.proc.kill("SIGKILL");
  await instances[1]!.proc.exited;
  await Bun.sleep(1_000);
  await Promise.all(loads.map((l) => l.stop()));
  daemons.splice(daemons.indexOf(instances[1]!), 1);
  daemons.push(await startDaemon(configs[1]!)); // systemd restarts it under the same name
  expect(acked.size).toBeGreaterThan(100);
  await waitFor(() => new Set(sink.received.map((r) => JSON.parse(r.body).data.wamid)).size >= acked.size, 60_000);
  await Bun.sleep(1_000);
  const delivered = sink.received.map((r) => JSON.parse(r.body).data.wamid as string);
  for (const wamid of acked) expect(delivered).toContain(wamid);
  // Nothing doubled: one event per message; a repeat after the crash carries the same webhook-id.
  const byWamid = new Map<string, Set<string>>();
  sink.received.forEach((r) => {
    const wamid = JSON.parse(r.body).data.wamid as string;
    byWamid.set(wamid, (byWamid.get(wamid) ?? new Set()).add(r.headers["webhook-id"]!));
  });
  for (const ids of byWamid.values()) expect(ids.size).toBe(1);
}, 90_000);

test("PostgreSQL restarted under load: 503 while it is down, never a 200 for what is not committed; the instances recover by themselves", async () => {
  const cluster15 = localCluster();
  const { sink, instances } = await cluster(2);
  const acked = new Set<string>();
  const statuses = new Map<number, number>();
  const loads = instances.map((d, i) =>
    burst(`${d.url}/webhook`, 4, (n) => textMessage(`wamid.R${i}_${n}`), (_res, body) => void acked.add(JSON.parse(body).entry[0].changes[0].value.messages[0].id)),
  );
  const watch = setInterval(async () => {
    const r = await signedPost(`${instances[0]!.url}/webhook`, textMessage(`wamid.W${Date.now()}`)).catch(() => null);
    if (r) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
  }, 50);
  try {
    await Bun.sleep(1_000);
    pgctl(cluster15, "stop");
    await waitFor(async () => (await fetch(`${instances[0]!.url}/readyz`)).status === 503, 10_000);
    await Bun.sleep(1_000);
    pgctl(cluster15, "start");
    await waitFor(async () => (await fetch(`${instances[0]!.url}/readyz`)).status === 200 && (await fetch(`${instances[1]!.url}/readyz`)).status === 200, 30_000);
    await Bun.sleep(1_000);
  } finally {
    clearInterval(watch);
    await Promise.all(loads.map((l) => l.stop()));
    pgctl(cluster15, "start");
  }
  expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
  expect([...statuses.keys()].every((s) => s === 200 || s === 503)).toBe(true);
  const ackedLoad = [...acked].filter((w) => w.startsWith("wamid.R"));
  await waitFor(() => { const got = new Set(sink.received.map((r) => JSON.parse(r.body).data.wamid)); return ackedLoad.every((w) => got.has(w)); }, 60_000);
  const ids = idsAt(sink);
  const perWamid = new Map<string, Set<string>>();
  sink.received.forEach((r, i) => {
    const w = JSON.parse(r.body).data.wamid as string;
    perWamid.set(w, (perWamid.get(w) ?? new Set()).add(ids[i]!));
  });
  for (const set of perWamid.values()) expect(set.size).toBe(1);
}, 120_000);

test("PostgreSQL gone silent (packets dropped, no error): webhooks get 503 within storage.lock_timeout and a margin, /readyz says why, a log line too; it recovers by itself, every 200 delivered", async () => {
  const url = await freshDatabase();
  const target = new URL(url);
  const proxy = new SilentProxy(target.hostname, Number(target.port || 5432));
  const sink = new Sink().start();
  sinks.push(sink);
  const behind = new URL(url);
  behind.port = String(proxy.port);
  const daemon = await startDaemon(clusterConfig(behind.toString(), "wa-silent", sink.url));
  daemons.push(daemon);
  try {
    const acked = new Set<string>();
    const post = async (n: string) => {
      const res = await signedPost(`${daemon.url}/webhook`, textMessage(`wamid.SILENT${n}`));
      if (res.status === 200) acked.add(`wamid.SILENT${n}`);
      return res;
    };
    expect((await post("0")).status).toBe(200);

    proxy.freeze();
    const started = Date.now();
    const stuck = await post("1");
    const waited = Date.now() - started;
    expect(stuck.status).toBe(503);
    expect(waited).toBeGreaterThanOrEqual(3_500); // lock_timeout 2s + the 2s margin: a slow lock is not a stall
    expect(waited).toBeLessThan(10_000);
    const next = Date.now();
    expect((await post("2")).status).toBe(503);
    expect(Date.now() - next).toBeLessThan(1_000); // while stalled, at once
    const ready = await fetch(`${daemon.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reason: string }).reason).toContain("postgres not answering");
    expect(daemon.lines.some((l) => l.includes("storage not answering: webhooks answered 503 until it does"))).toBe(true);
    // The admin API answers too (a 503 to retry), not a connection dropped at Bun's idle timeout.
    const asked = Date.now();
    const admin = await fetch(`${daemon.url}/v1/events?limit=1`, { headers: { authorization: "Bearer e2e-admin-token-0123456789" } });
    expect(admin.status).toBe(503);
    expect(((await admin.json()) as { error: string; reason: string })).toMatchObject({ error: "storage_unavailable", reason: expect.stringContaining("postgres not answering") });
    expect(Date.now() - asked).toBeLessThan(10_000);
    expect(daemon.lines.some((l) => l.includes('"msg":"admin request unanswered"'))).toBe(true);

    proxy.thaw();
    await waitFor(async () => (await post(`3-${Date.now()}`)).status === 200, 30_000);
    await waitFor(async () => (await fetch(`${daemon.url}/readyz`)).status === 200, 10_000);
    expect(daemon.lines.some((l) => l.includes("storage answers again"))).toBe(true);
    await waitFor(() => {
      const got = new Set(sink.received.map((r) => JSON.parse(r.body).data.wamid));
      return [...acked].every((w) => got.has(w));
    }, 20_000);
    expect(acked.size).toBeGreaterThanOrEqual(2);
  } finally {
    proxy.thaw();
    proxy.stop();
  }
}, 90_000);

test("a hook removed by a reload with open deliveries: the reload says so, with the count, as on SQLite", async () => {
  const url = await freshDatabase();
  const sink = new Sink().start();
  sinks.push(sink);
  const crm = hookToml(`http://127.0.0.1:${closedPort()}/hook`, "crm", 'retry_schedule = ["1h"]');
  const config = clusterConfig(url, "wa-orphans", sink.url, crm);
  const daemon = await startDaemon(config);
  daemons.push(daemon);
  for (const wamid of ["wamid.PGORPHAN1", "wamid.PGORPHAN2"]) expect((await signedPost(`${daemon.url}/webhook`, textMessage(wamid))).status).toBe(200);
  await waitFor(() => sink.received.length === 2, 20_000);
  writeFileSync(config, readFileSync(config, "utf8").replace(crm, ""));
  const from = daemon.lines.length;
  daemon.proc.kill("SIGHUP");
  await waitFor(() => daemon.lines.slice(from).some((l) => l.includes('"msg":"config reloaded"')), 20_000);
  const said = daemon.lines.slice(from).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "deliveries of a hook the daemon no longer runs: nothing sends them");
  expect(said.map((l) => [l.level, l.hook, l.deliveries])).toEqual([["warn", "crm", 2]]);
}, 60_000);

/** The local cluster behind PG_URL (version and name), to stop and start it: the restart case needs the real server. */
function localCluster(): [string, string] {
  const listed = Bun.spawnSync(["pg_lsclusters", "-h"]).stdout.toString().trim().split("\n").map((l) => l.split(/\s+/));
  const port = new URL(PG_URL).port || "5432";
  const found = listed.find((f) => f[2] === port);
  if (!found) throw new Error(`no local PostgreSQL cluster on port ${port} (pg_lsclusters): this case restarts the server, it needs the local one`);
  return [found[0]!, found[1]!];
}

function pgctl([version, name]: [string, string], action: "stop" | "start") {
  const online = Bun.spawnSync(["pg_lsclusters", "-h", version, name]).stdout.toString().includes(" online ");
  if (online === (action === "start")) return;
  const r = Bun.spawnSync(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, action]);
  if (r.exitCode !== 0) throw new Error(`pg_ctlcluster ${action}: ${r.stdout.toString()}${r.stderr.toString()}`);
}

test("check connects: the server's and the schema's versions; an unreachable URL names storage.url; file commands say they are SQLite's", async () => {
  const url = await freshDatabase();
  const config = clusterConfig(url, "wa-1", "http://127.0.0.1:9/hook");
  const run = (...args: string[]) => Bun.spawnSync([BINARY, ...args]);
  const empty = run("check", "--config", config);
  expect(empty.exitCode).toBe(0);
  expect(empty.stdout.toString()).toMatch(/database: postgres:\/\/[^ ]+, PostgreSQL \d+\.\d+.*, empty, migrated at start\)/);
  const d = await startDaemon(config);
  daemons.push(d);
  expect(run("check", "--config", config).stdout.toString()).toMatch(/PostgreSQL \d+\.\d+.*, schema \d+\)/);
  const down = clusterConfig(`postgres://postgres:pw@127.0.0.1:${closedPort()}/x`, "wa-1", "http://127.0.0.1:9/hook");
  const refused = run("check", "--config", down);
  expect(refused.exitCode).toBe(2);
  expect(refused.stderr.toString()).toContain("storage.url: cannot reach postgres://postgres:********@127.0.0.1:");
  // Reached, but the role may not read the schema: said as refused, not as unreachable.
  const role = `wa_noperm_${process.pid}`;
  const admin = new SQL(url, { max: 1 });
  try {
    await admin.unsafe(`DROP ROLE IF EXISTS ${role}`);
    await admin.unsafe(`CREATE ROLE ${role} LOGIN`);
    await admin.unsafe(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}`);
    const noPerm = new URL(url);
    noPerm.username = role;
    const denied = run("check", "--config", clusterConfig(noPerm.toString(), "wa-1", "http://127.0.0.1:9/hook"));
    expect(denied.exitCode).toBe(2);
    expect(denied.stderr.toString()).toContain(`refused: permission denied`);
    expect(denied.stderr.toString()).not.toContain("cannot reach");
  } finally {
    await admin.unsafe(`DROP ROLE IF EXISTS ${role}`).catch(() => {}); // roles outlive the test's database
    await admin.close();
  }
  const backup = run("backup", "--config", config, join(tempDir(), "b.db"));
  expect(backup.exitCode).toBe(1);
  expect(backup.stderr.toString()).toContain('with storage.engine = "postgres" the database is backed up with pg_dump'); // test/e2e/postgres-stream.test.ts: the command it gives
});

test("the retention job on three instances runs once per fire, and each run names its instance", async () => {
  const { url } = await cluster(3, `[sweeper]\nretention_schedule = "*/2 * * * * *"`);
  const sql = new SQL(url, { max: 1 });
  try {
    await waitFor(async () => Number((await sql`SELECT count(*) AS n FROM scheduled_runs WHERE finished_at IS NOT NULL`)[0].n) >= 3, 15_000);
    const runs = [...(await sql`SELECT fire_at::float8 AS fire_at, instance, result, error FROM scheduled_runs ORDER BY fire_at`)];
    // One row per fire (the primary key), every fire on the 2-second grid, each run by one of the three, none failed.
    expect(new Set(runs.map((r) => r.fire_at)).size).toBe(runs.length);
    for (const r of runs) {
      expect(r.fire_at % 2_000).toBe(0);
      expect(["wa-1", "wa-2", "wa-3"]).toContain(r.instance);
      expect(r.error).toBeNull();
    }
    expect(JSON.parse(runs.find((r) => r.result !== null)!.result)).toMatchObject({ deliveries: 0, events: 0, inbox: 0 });
  } finally {
    await sql.close();
  }
});

test("the admin API on PostgreSQL answers events, one event, one message, stats (and per day), templates, the jobs, replaying one event or a range, orphans, alerts, a contact and their erasure as SQLite does, lists deliveries and webhooks, retries a dead delivery (or a hook's) and reprocesses a dead webhook; the live stream answers", async () => {
  const { instances, sink, url } = await cluster(1);
  const pg = instances[0]!;
  const dir = tempDir("wa-pg-admin-");
  const lite = await startDaemon(writeConfig(dir, { toml: hookToml(sink.url) }));
  daemons.push(lite);
  const auth = { authorization: "Bearer e2e-admin-token-0123456789" };
  const names = ["message_text", "status_delivered", "status_failed", "template_status_paused", "message_reaction"];
  const bodies = names.map((n) => JSON.stringify(require(`../fixtures/payloads/${n}.json`).payload));
  for (const body of bodies) for (const d of [pg, lite]) expect((await signedPost(`${d.url}/webhook`, body)).status).toBe(200);
  const events = async (d: Daemon) => ((await (await fetch(`${d.url}/v1/events?limit=100`, { headers: auth })).json()) as { data: Record<string, unknown>[] }).data;
  await waitFor(async () => (await events(pg)).length >= bodies.length && (await events(lite)).length === (await events(pg)).length, 15_000);
  const comparable = (data: Record<string, unknown>[]) => data.map(({ id: _id, received_at: _r, ...e }) => e);
  expect(comparable(await events(pg))).toEqual(comparable(await events(lite)));
  // Filters and pages: the same as well.
  const filtered = async (d: Daemon) => comparable(((await (await fetch(`${d.url}/v1/events?type=message.*&limit=1`, { headers: auth })).json()) as { data: Record<string, unknown>[] }).data);
  expect(await filtered(pg)).toEqual(await filtered(lite));

  const first = (await events(pg)).at(-1)!;
  const detail = (await (await fetch(`${pg.url}/v1/events/${first.id}`, { headers: auth })).json()) as { webhook: { body: string }; deliveries: unknown[] };
  expect(detail.webhook.body).toBe(bodies[0]!);
  const wamid = (JSON.parse(bodies[2]!).entry[0].changes[0].value.statuses[0].id) as string;
  const msg = async (d: Daemon) => {
    const m = (await (await fetch(`${d.url}/v1/messages/${encodeURIComponent(wamid)}`, { headers: auth })).json()) as { statuses: Record<string, unknown>[] };
    return { ...m, statuses: m.statuses.map(({ event_id: _e, received_at: _r, ...s }) => s) };
  };
  expect(await msg(pg)).toEqual(await msg(lite));
  const jobs = (await (await fetch(`${pg.url}/v1/jobs`, { headers: auth })).json()) as { jobs: { name: string; last_instance: string | null }[] };
  expect(jobs.jobs.map((j) => j.name)).toEqual(["retention"]);

  // Stats: the same figures (but the time it was asked and the lag), once both delivered everything.
  await waitFor(() => sink.received.length >= 2 * bodies.length, 15_000);
  await Bun.sleep(300);
  const statsOf = async (d: Daemon) => {
    const { at: _at, worker_lag_ms: _lag, ...rest } = (await (await fetch(`${d.url}/v1/stats`, { headers: auth })).json()) as Record<string, unknown>;
    return rest;
  };
  expect(await statsOf(pg)).toEqual(await statsOf(lite));
  const daysOf = async (d: Daemon) => (await fetch(`${d.url}/v1/stats/days?days=2`, { headers: auth })).json();
  expect(await daysOf(pg)).toEqual(await daysOf(lite));
  // The delivery and inbox lists: the same rows (but ids and times).
  const list = async (d: Daemon, path: string, drop: string[]) =>
    ((await (await fetch(`${d.url}${path}`, { headers: auth })).json()) as { data: Record<string, unknown>[] }).data.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !drop.includes(k))));
  const deliveryTimes = ["id", "event_id", "created_at", "updated_at", "next_attempt_at"];
  expect(await list(pg, "/v1/deliveries?hook=app&limit=50", deliveryTimes)).toEqual(await list(lite, "/v1/deliveries?hook=app&limit=50", deliveryTimes));
  expect((await list(pg, "/v1/deliveries?hook=app", deliveryTimes)).length).toBe(bodies.length);
  const inboxTimes = ["id", "received_at", "processed_at"];
  expect(await list(pg, "/v1/inbox?state=done&limit=50", inboxTimes)).toEqual(await list(lite, "/v1/inbox?state=done&limit=50", inboxTimes));
  const templates = async (d: Daemon) =>
    ((await (await fetch(`${d.url}/v1/templates`, { headers: auth })).json()) as { data: Record<string, unknown>[] }).data.map(({ updated_at: _u, history, ...t }) => ({
      ...t,
      history: (history as Record<string, unknown>[]).map(({ received_at: _r, ...h }) => h),
    }));
  expect(await templates(pg)).toEqual(await templates(lite));
  expect((await templates(pg)).length).toBe(1);
  // Alerts: the same filters, pages and refusals (this engine raises none yet: a kind neither has, and a bad one).
  const ask = async (d: Daemon, path: string, init: RequestInit = {}) => {
    const r = await fetch(`${d.url}${path}`, { ...init, headers: { ...auth, "content-type": "application/json" } });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  for (const path of ["/v1/alerts?kind=hook.dead&limit=5", "/v1/alerts?kind=nothing.*", "/v1/alerts?cursor=%25%25"]) expect(await ask(pg, path)).toEqual(await ask(lite, path));
  // A range replay a page at a time: the same counts, a cursor when more follow (event ids differ by engine), the same refusals.
  const post = (body: unknown) => ({ method: "POST", body: JSON.stringify(body) });
  const range = { since: "2000-01-01", until: "2100-01-01", limit: 2 };
  const pages = async (d: Daemon) => {
    const seen: unknown[] = [];
    let cursor: string | null = null;
    do {
      const { status, body }: { status: number; body: Record<string, unknown> } = await ask(d, "/v1/replay", post({ ...range, ...(cursor ? { cursor } : {}) }));
      cursor = body.next_cursor as string | null;
      seen.push({ status, ...body, next_cursor: cursor !== null });
    } while (cursor !== null);
    return seen;
  };
  expect(await pages(pg)).toEqual(await pages(lite));
  for (const body of [{ ...range, type: "nothing.*" }, { ...range, hook: "nope" }, { since: "2100-01-01", until: "2000-01-01" }]) {
    expect(await ask(pg, "/v1/replay", post(body))).toEqual(await ask(lite, "/v1/replay", post(body)));
  }
  // Orphans: none while the one hook runs; a move to a hook no one runs is refused alike.
  for (const body of [{ action: "cancel" }, { action: "move", to: "nope" }, { action: "cancel", hook: "app" }]) {
    expect(await ask(pg, "/v1/deliveries/orphaned", post(body))).toEqual(await ask(lite, "/v1/deliveries/orphaned", post(body)));
  }
  // Replaying one event: the same answer on both engines, and the hook gets it again under its webhook-id.
  const replay = async (d: Daemon, id: string, body: unknown) => {
    const r = await fetch(`${d.url}/v1/events/${id}/replay`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: r.status, body: await r.json() };
  };
  const oldest = async (d: Daemon) => (await events(d)).at(-1)!.id as string;
  const before = sink.received.filter((r) => r.headers["webhook-id"] === first.id).length;
  expect(await replay(pg, await oldest(pg), {})).toEqual(await replay(lite, await oldest(lite), {}));
  await waitFor(() => sink.received.filter((r) => r.headers["webhook-id"] === first.id).length === before + 1, 10_000);
  expect((await replay(pg, first.id as string, { hook: "nope" })).status).toBe(400);
  expect((await replay(pg, "evt_01ARZ3NDEKTSV4RRFFQ69G5FAV", {})).status).toBe(404);
  // Putting things back: a dead webhook reprocessed; a delivery that is not dead is not retried.
  expect((await signedPost(`${pg.url}/webhook`, "signed, but not JSON")).status).toBe(200);
  const sql = new SQL(url, { max: 1 });
  try {
    await waitFor(async () => (await sql`SELECT id FROM inbox WHERE state = 'dead'`).length === 1, 10_000);
    const [{ id: deadId }] = await sql`SELECT id::int AS id FROM inbox WHERE state = 'dead'`;
    const reprocessed = await fetch(`${pg.url}/v1/inbox/${deadId}/reprocess`, { method: "POST", headers: auth });
    expect({ status: reprocessed.status, body: await reprocessed.json() }).toEqual({ status: 200, body: { id: deadId, revived: 1 } });
    const [{ id: doneId }] = await sql`SELECT id::int AS id FROM inbox WHERE state = 'done' LIMIT 1`;
    expect((await fetch(`${pg.url}/v1/inbox/${doneId}/reprocess`, { method: "POST", headers: auth })).status).toBe(409);
    const [{ id: deliveryId }] = await sql`SELECT id::int AS id FROM deliveries WHERE state = 'done' LIMIT 1`;
    expect((await fetch(`${pg.url}/v1/deliveries/${deliveryId}/retry`, { method: "POST", headers: auth })).status).toBe(409);
    await sql`UPDATE deliveries SET state = 'dead' WHERE id = ${deliveryId}`;
    const retried = await fetch(`${pg.url}/v1/deliveries/${deliveryId}/retry`, { method: "POST", headers: auth });
    expect({ status: retried.status, body: await retried.json() }).toEqual({ status: 200, body: { id: deliveryId, state: "pending" } });
    await waitFor(async () => (await sql`SELECT state FROM deliveries WHERE id = ${deliveryId}`)[0].state === "done", 10_000);
    expect((await fetch(`${pg.url}/v1/deliveries/999999/retry`, { method: "POST", headers: auth })).status).toBe(404);
    // Every dead delivery of a hook at once.
    await sql`UPDATE deliveries SET state = 'dead' WHERE id = ${deliveryId}`;
    const all = await fetch(`${pg.url}/v1/deliveries/retry`, { method: "POST", headers: auth, body: JSON.stringify({ hook: "app" }) });
    expect({ status: all.status, body: await all.json() }).toEqual({ status: 200, body: { hook: "app", retried: 1 } });
    await waitFor(async () => (await sql`SELECT state FROM deliveries WHERE id = ${deliveryId}`)[0].state === "done", 10_000);
  } finally {
    await sql.close();
  }
  // A contact, then their erasure: the same answer (but what SQLite's file gives back), then 404 on both.
  const person = "16505551234";
  const contactOf = async (d: Daemon) => {
    const { status, body } = await ask(d, `/v1/contacts/${person}`);
    const { updated_at: _u, recent_messages: recent, ...rest } = body;
    // Times are each daemon's processing's, and messages stored in one batch share one: which of those each lists first is its own.
    return { status, ...rest, recent_messages: (recent as { at: string }[]).map(({ at: _at, ...m }) => JSON.stringify(m)).sort() };
  };
  expect(await contactOf(pg)).toEqual(await contactOf(lite));
  const erase = async (d: Daemon) => {
    const { status, body } = await ask(d, `/v1/contacts/+${person}`, { method: "DELETE" });
    const { storage: _s, ...rest } = body;
    return { status, ...rest };
  };
  const erased = await erase(pg);
  expect(erased).toEqual(await erase(lite));
  expect(erased.status).toBe(200);
  expect((await ask(pg, `/v1/contacts/${person}`)).status).toBe(404);
  expect(await ask(pg, `/v1/contacts/${person}`, { method: "DELETE" })).toEqual(await ask(lite, `/v1/contacts/${person}`, { method: "DELETE" }));
  expect(await ask(pg, "/v1/contacts/abc")).toEqual(await ask(lite, "/v1/contacts/abc"));
  // The live stream is on this engine too (test/e2e/postgres-stream.test.ts).
  const stream = await fetch(`${pg.url}/v1/events/stream`, { headers: auth });
  expect({ status: stream.status, type: stream.headers.get("content-type") }).toEqual({ status: 200, type: "text/event-stream" });
  await stream.body?.cancel();
  expect((await fetch(`${pg.url}/v1/events`)).status).toBe(401);
});

test("an instance paused (SIGSTOP) past its lease: the other takes its jobs over, and when it resumes its late finishes are refused by token", async () => {
  const { url, sink, instances } = await cluster(2);
  // Webhooks of 300 statuses each: processing them keeps an instance inside a pass most of the time.
  const bodies = Array.from({ length: 40 }, (_, j) =>
    JSON.stringify(statusesPayload(...Array.from({ length: 300 }, (_, i) => ({ id: `wamid.P${j}_${i}`, status: "sent", timestamp: "1750000000", recipient_id: "16505551234" })))),
  );
  const answers = await Promise.all(bodies.map((b, i) => signedPost(`${instances[i % 2]!.url}/webhook`, b)));
  expect(answers.every((r) => r.status === 200)).toBe(true);
  const sql = new SQL(url, { max: 1 });
  try {
    // Whichever instance holds jobs now is paused, mid-pass.
    let holder = "";
    await waitFor(async () => {
      const [row] = await sql`SELECT split_part(lease_token, ':', 1) AS instance FROM inbox WHERE state = 'processing' LIMIT 1`;
      holder = (row?.instance as string | undefined) ?? "";
      return holder !== "";
    }, 10_000);
    const paused = instances[Number(holder.slice("wa-".length)) - 1]!;
    const other = instances.find((d) => d !== paused)!;
    paused.proc.kill("SIGSTOP");
    const held = [...(await sql`SELECT id::int AS id FROM inbox WHERE state = 'processing' AND starts_with(lease_token, ${`${holder}:`})`)].map((r) => r.id as number);
    expect(held.length).toBeGreaterThan(0);
    // Past worker.lease (3 s) the other instance claims them again: wait until it has (a busy machine makes it later than the lease).
    await Bun.sleep(3_500);
    await waitFor(async () => (await sql`SELECT count(*)::int AS n FROM inbox WHERE id = ANY(${sql.array(held, "INT4")}::int[]) AND attempts >= 2`)[0].n > 0, 60_000);
    paused.proc.kill("SIGCONT");
    await waitFor(async () => Number((await sql`SELECT count(*) AS n FROM inbox WHERE state <> 'done'`)[0].n) === 0, 60_000);
    await waitFor(() => sink.received.length >= 40 * 300, 60_000);
    await Bun.sleep(500);
    // The jobs it held were done by the other instance (attempt counted twice); nothing was stored twice.
    const [{ taken }] = await sql`SELECT count(*)::int AS taken FROM inbox WHERE id = ANY(${sql.array(held, "INT4")}::int[]) AND attempts >= 2`;
    expect(taken).toBeGreaterThan(0);
    const [{ events, keys }] = await sql`SELECT (SELECT count(*)::int FROM events) AS events, (SELECT count(*)::int FROM dedup_keys) AS keys`;
    expect({ events, keys }).toEqual({ events: 40 * 300, keys: 40 * 300 });
    const ids = new Map<string, Set<string>>();
    for (const r of sink.received) {
      const wamid = JSON.parse(r.body).data.wamid as string;
      ids.set(wamid, (ids.get(wamid) ?? new Set()).add(r.headers["webhook-id"]!));
    }
    expect(ids.size).toBe(40 * 300);
    for (const set of ids.values()) expect(set.size).toBe(1);
    expect((await fetch(`${other.url}/readyz`)).status).toBe(200);
  } finally {
    for (const d of instances) d.proc.kill("SIGCONT");
    await sql.close();
  }
}, 120_000);

test("an instance whose name another run took over (it was taken for dead) stops, exit 1, instead of running twice under one name", async () => {
  const { url, instances } = await cluster(1);
  const [wa1] = instances;
  const sql = new SQL(url, { max: 1 });
  try {
    // What a new run under the same name does to a row it finds stale: registers with its own token.
    await sql`UPDATE instances SET token = 'the-new-run' WHERE name = 'wa-1'`;
    expect(await wa1!.proc.exited).toBe(1); // the next heartbeat (every 5 s) finds the name gone
    expect(wa1!.lines.some((l) => l.includes("this instance's name was taken over by another run") && l.includes("stopping"))).toBe(true);
    expect(wa1!.lines.some((l) => l.includes('"msg":"stopped"'))).toBe(true); // the graceful stop, as on SIGTERM
  } finally {
    await sql.close();
  }
}, 30_000);

test("the instances' connections killed under load (pg_terminate_backend): only 200s and 503s, every acknowledged POST delivered once, no restart needed", async () => {
  const { url, sink, instances } = await cluster(2);
  const acked = new Set<string>();
  const statuses = new Map<number, number>();
  const loads = instances.map((d, i) =>
    burst(`${d.url}/webhook`, 4, (n) => textMessage(`wamid.T${i}_${n}`), (_res, body) => void acked.add(JSON.parse(body).entry[0].changes[0].value.messages[0].id)),
  );
  const watch = setInterval(async () => {
    const r = await signedPost(`${instances[1]!.url}/webhook`, textMessage(`wamid.TW${Date.now()}_${Math.random()}`)).catch(() => null);
    if (r) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
  }, 20);
  const admin = new SQL(url, { max: 1 });
  let killed = 0;
  try {
    for (let round = 0; round < 5; round++) {
      await Bun.sleep(300);
      const rows = await admin`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'wa-webhookd %'`;
      killed += rows.filter((r: { ok: boolean }) => r.ok).length;
    }
    await Bun.sleep(500);
  } finally {
    clearInterval(watch);
    await Promise.all(loads.map((l) => l.stop()));
    await admin.close();
  }
  expect(killed).toBeGreaterThan(0);
  expect([...statuses.keys()].every((s) => s === 200 || s === 503)).toBe(true);
  for (const d of instances) await waitFor(async () => (await fetch(`${d.url}/readyz`)).status === 200, 15_000);
  const ackedLoad = [...acked];
  await waitFor(() => {
    const got = new Set(sink.received.map((r) => JSON.parse(r.body).data.wamid));
    return ackedLoad.every((w) => got.has(w));
  }, 60_000);
  const perWamid = new Map<string, Set<string>>();
  for (const r of sink.received) {
    const w = JSON.parse(r.body).data.wamid as string;
    perWamid.set(w, (perWamid.get(w) ?? new Set()).add(r.headers["webhook-id"]!));
  }
  for (const set of perWamid.values()) expect(set.size).toBe(1);
}, 120_000);

test("200 fallbacks due at once across three instances' sweepers and senders: one SMS each, registered and statused through any instance", async () => {
  const sms = new Sink().start();
  sinks.push(sms);
  const fallback = fastFallbackToml(`http://127.0.0.1:${sms.port}/sms`, "max_stale_ratio = 1.0", "concurrency = 16");
  const { instances, url } = await cluster(3, fallback);
  const admin = { authorization: "Bearer e2e-admin-token-0123456789", "content-type": "application/json" };
  const wamids = Array.from({ length: 200 }, (_, i) => `wamid.FB${String(i).padStart(3, "0")}`);
  // Registered through one instance, statused through the others: the state is the database's, not an instance's.
  const registered = await Promise.all(
    [0, 1, 2].map((k) => {
      const items = wamids.filter((_, i) => i % 3 === k).map((wamid) => ({ wamid, to: "+16505551234", text: "Your code is 123456", category: "authentication" }));
      return fetch(`${instances[k]!.url}/v1/outbound`, { method: "POST", headers: admin, body: JSON.stringify(items) });
    }),
  );
  expect(registered.map((r) => r.status)).toEqual([201, 201, 201]);
  const now = Math.floor(Date.now() / 1000);
  const sent = await Promise.all(wamids.map((w, i) => signedPost(`${instances[(i + 1) % 3]!.url}/webhook`, JSON.stringify(statusesPayload({ id: w, status: "sent", timestamp: String(now), recipient_id: "16505551234" })))));
  expect(sent.every((r) => r.status === 200)).toBe(true);
  await waitFor(() => new Set(sms.received.map((r) => r.headers["idempotency-key"])).size >= 200, 60_000);
  await Bun.sleep(3_000); // more sweeps and sends on every instance: still one each
  const keys = sms.received.map((r) => r.headers["idempotency-key"]);
  expect(keys).toHaveLength(200);
  expect(new Set(keys)).toEqual(new Set(wamids));
  const db = new SQL(url, { max: 1 });
  try {
    expect(Number((await db`SELECT count(*) AS n FROM fallback_sends WHERE state = 'sent'`)[0].n)).toBe(200);
    expect(Number((await db`SELECT count(*) AS n FROM events WHERE type = 'message.stale'`)[0].n)).toBe(200);
    // Which instances ran the stale job: every fire once, whichever instance took it.
    const fires = await db`SELECT fire_at, count(*) AS n FROM scheduled_runs WHERE name = 'stale' GROUP BY fire_at HAVING count(*) > 1`;
    expect([...fires]).toEqual([]);
  } finally {
    await db.close();
  }
  const message = (await (await fetch(`${instances[2]!.url}/v1/messages/${wamids[0]}`, { headers: admin })).json()) as { fallback: { state: string; sms: { state: string } } };
  expect(message.fallback).toMatchObject({ state: "fallback_sent", sms: { state: "sent" } });
}, 120_000);
