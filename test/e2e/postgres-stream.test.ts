/**
 * The live tail and the reading commands on the PostgreSQL engine, on the compiled
 * binary against a real server: an SSE client of one instance sees the events stored by
 * both (webhooks POSTed to the other, processed by either), in the stream's order, none
 * missing, none doubled, and a client resuming with Last-Event-ID gets exactly the rest;
 * `tail`, `stats` and `jobs` work on a PostgreSQL config as on SQLite; `backup` gives the
 * pg_dump command (password masked) and fails; `vacuum` says what to use.
 */
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { SQL } from "bun";
import { Stats } from "../../src/admin/responses";
import { BINARY, requireBinary, runBinary, startDaemon, stopAfterEach, tempDir, waitFor } from "../support/daemon";
import { freshDatabase } from "../support/postgres";
import { Sink } from "../support/sink";
import { sseReader } from "../support/sse-reader";
import { signedPost, statusesPayload, textMessage } from "../support/webhooks";
import { WHSEC } from "../support/pipeline";

requireBinary();

const { daemons, sinks } = stopAfterEach();
const auth = { authorization: "Bearer e2e-admin-token-0123456789" };

/** An instance's config on the database at `url` (it may carry a password: trust auth ignores it). */
function instanceConfig(url: string, instance: string, hookUrl: string): string {
  const path = join(tempDir("wa-pg-stream-"), "config.toml");
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
[worker]
batch_size = 4
[whatsapp]
verify_token = "vt"
app_secrets = ["e2e-secret-one"]
[admin]
token = "e2e-admin-token-0123456789"
[[hooks]]
name = "app"
url = "${hookUrl}"
secret = "${WHSEC}"
`,
    { mode: 0o600 },
  );
  return path;
}

async function twoInstances(url?: string) {
  const database = url ?? (await freshDatabase());
  const sink = new Sink().start();
  sinks.push(sink);
  const configs = ["wa-a", "wa-b"].map((name) => instanceConfig(database, name, sink.url));
  const [a, b] = await Promise.all(configs.map((c) => startDaemon(c)));
  daemons.push(a!, b!);
  return { url: database, sink, configs, a: a!, b: b! };
}

/** Event ids as the stream orders them (the events table's (tx, id)). */
async function streamOrder(url: string): Promise<string[]> {
  const sql = new SQL(url, { max: 1 });
  try {
    return [...(await sql`SELECT id FROM events ORDER BY tx, id COLLATE "C"`)].map((r: { id: string }) => r.id);
  } finally {
    await sql.close();
  }
}

const webhooks = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) =>
    i % 3 === 2
      ? JSON.stringify(statusesPayload({ id: `wamid.${prefix}S${i}`, status: "sent", timestamp: "1750000000", recipient_id: "16505551234" }, { id: `wamid.${prefix}S${i}`, status: "delivered", timestamp: "1750000001", recipient_id: "16505551234" }))
      : textMessage(`wamid.${prefix}${i}`, `stream ${i}`),
  );

test("an SSE client of instance A sees every event stored from webhooks POSTed to B, in order, none missing, none doubled; Last-Event-ID resumes exactly", async () => {
  const { url, a, b } = await twoInstances();
  const reader = sseReader(a.port, { pauseMs: 0 });
  try {
    await Bun.sleep(1_000); // connected: the stream starts now
    // Concurrent POSTs to B: both instances process them (one shared queue), committing in any order.
    const bodies = webhooks("SB", 90);
    for (let i = 0; i < bodies.length; i += 10) {
      const answers = await Promise.all(bodies.slice(i, i + 10).map((body) => signedPost(`${b.url}/webhook`, body)));
      expect(answers.map((r) => r.status)).toEqual(Array(answers.length).fill(200));
    }
    const sql = new SQL(url, { max: 1 });
    try {
      await waitFor(async () => Number((await sql`SELECT count(*) AS n FROM inbox WHERE state <> 'done'`)[0].n) === 0, 60_000);
    } finally {
      await sql.close();
    }
    const stored = await streamOrder(url);
    expect(stored).toHaveLength(90 + 30); // a text message each, two statuses in every third webhook
    await waitFor(() => reader.ids.length >= stored.length, 30_000);
    await Bun.sleep(800); // nothing more comes
    expect(reader.ids).toEqual(stored);
    expect(new Set(reader.ids).size).toBe(stored.length);
    expect(reader.connections).toBe(1);

    // Resuming with Last-Event-ID, on either instance: exactly what followed that event.
    for (const [daemon, k] of [[b, 0], [a, 57], [b, stored.length - 1]] as const) {
      const resumed = sseReader(daemon.port, { pauseMs: 0, lastEventId: stored[k]! });
      try {
        await waitFor(() => resumed.ids.length >= stored.length - k - 1, 30_000);
        await Bun.sleep(600);
        expect(resumed.ids).toEqual(stored.slice(k + 1));
      } finally {
        resumed.stop();
      }
    }
    // A client that resumes from the last event gets the next ones, whichever instance stores them.
    const last = stored.at(-1)!;
    const follower = sseReader(b.port, { pauseMs: 0, lastEventId: last });
    try {
      await Bun.sleep(500);
      for (const body of webhooks("SA", 12)) expect((await signedPost(`${a.url}/webhook`, body)).status).toBe(200);
      const more = await (async () => {
        let all: string[] = [];
        await waitFor(async () => (all = await streamOrder(url)).length === stored.length + 12 + 4, 30_000);
        return all.slice(stored.length);
      })();
      await waitFor(() => follower.ids.length >= more.length && reader.ids.length >= stored.length + more.length, 30_000);
      await Bun.sleep(600);
      expect(follower.ids).toEqual(more);
      expect(reader.ids).toEqual([...stored, ...more]);
    } finally {
      follower.stop();
    }
    // A type filter and a malformed Last-Event-ID: as on SQLite.
    const bad = await fetch(`${a.url}/v1/events/stream`, { headers: { ...auth, "last-event-id": "nope" } });
    expect(bad.status).toBe(400);
    const filtered = sseReader(a.port, { pauseMs: 0, lastEventId: stored[0]!, path: "/v1/events/stream?type=message.status" });
    try {
      const statuses = (await eventsOfType(url, "message.status")).filter((id) => id !== stored[0]);
      await waitFor(() => filtered.ids.length >= statuses.length, 30_000);
      await Bun.sleep(600);
      expect(filtered.ids).toEqual(statuses);
    } finally {
      filtered.stop();
    }
  } finally {
    reader.stop();
  }
}, 180_000);

/** The ids of one type, in stream order. */
async function eventsOfType(url: string, type: string): Promise<string[]> {
  const sql = new SQL(url, { max: 1 });
  try {
    return [...(await sql`SELECT id FROM events WHERE type = ${type} ORDER BY tx, id COLLATE "C"`)].map((r: { id: string }) => r.id);
  } finally {
    await sql.close();
  }
}

test("tail, stats and jobs on a PostgreSQL config work as on SQLite; backup gives the pg_dump command, its password masked, and fails; vacuum names what to use", async () => {
  const plain = new URL(await freshDatabase());
  plain.password = "s3cret-pw"; // trust auth: accepted, and never to be printed
  const url = plain.toString();
  const { a, b, configs } = await twoInstances(url);
  const config = configs[0]!;

  // tail: every instance's events, one line each, as on SQLite (test/e2e/admin.test.ts).
  const tail = Bun.spawn([BINARY, "tail", "--config", config, "--type", "message.*"], { stdout: "pipe", stderr: "pipe" });
  let out = "";
  try {
    await Bun.sleep(1_000);
    expect((await signedPost(`${b.url}/webhook`, textMessage("wamid.TAILPG1", "my secret text"))).status).toBe(200);
    expect((await signedPost(`${a.url}/webhook`, textMessage("wamid.TAILPG2", "another secret"))).status).toBe(200);
    const reader = tail.stdout.getReader();
    const deadline = Date.now() + 20_000;
    while (!(out.includes("wamid.TAILPG1") && out.includes("wamid.TAILPG2")) && Date.now() < deadline) out += new TextDecoder().decode((await reader.read()).value);
    reader.releaseLock();
  } finally {
    tail.kill("SIGINT");
    expect(await tail.exited).toBe(0);
  }
  const line = out.split("\n").find((l) => l.includes("wamid.TAILPG1"))!;
  expect(line).toMatch(/^\S+Z  message\.received\s+wamid\.TAILPG1  text \(14 chars\)$/);
  expect(out).not.toContain("my secret text");
  const json = Bun.spawn([BINARY, "tail", "--config", config, "--json"], { stdout: "pipe", stderr: "pipe" });
  await Bun.sleep(1_000);
  expect((await signedPost(`${a.url}/webhook`, textMessage("wamid.TAILPG3"))).status).toBe(200);
  await Bun.sleep(2_000);
  json.kill("SIGINT");
  expect(await json.exited).toBe(0);
  const lines = (await new Response(json.stdout).text()).trim().split("\n");
  expect(lines.map((l) => (JSON.parse(l) as { data: { wamid: string } }).data.wamid)).toEqual(["wamid.TAILPG3"]);

  // stats: GET /v1/stats's figures, as a table and as JSON.
  await waitFor(async () => ((await (await fetch(`${a.url}/v1/stats`, { headers: auth })).json()) as { deliveries: { hooks: { app: { pending: number; delivering: number; delivered_last_day: number } } } }).deliveries.hooks.app.delivered_last_day === 3, 20_000);
  const table = runBinary(["stats", "--config", config]);
  expect(table.code).toBe(0);
  expect(table.stdout).toMatch(/events \(1 h\)\s+message\.received 3/);
  expect(table.stdout).toMatch(/hook app\s+3 delivered \(24 h\), 0 pending/);
  const statsJson = runBinary(["stats", "--config", config, "--json"]);
  expect(statsJson.code).toBe(0);
  const figures = JSON.parse(statsJson.stdout);
  expect(Stats.safeParse(figures).success).toBe(true);
  const { at: _at, worker_lag_ms: _lag, ...cli } = figures;
  const { at: _at2, worker_lag_ms: _lag2, ...api } = (await (await fetch(`${b.url}/v1/stats`, { headers: auth })).json()) as Record<string, unknown>;
  expect(cli).toEqual(api);

  // jobs: the instances' jobs; a run here is one of theirs, seen by GET /v1/jobs on any instance.
  const list = runBinary(["jobs", "list", "--config", config, "--json"]);
  expect(list.code).toBe(0);
  expect((JSON.parse(list.stdout) as { name: string }[]).map((j) => j.name)).toEqual(["retention"]);
  expect(runBinary(["jobs", "list", "--config", config]).stdout).toMatch(/^retention\s+\S.*\s+next \S+Z {2}last never\n$/);
  const run = runBinary(["jobs", "run", "retention", "--config", config, "--json"]);
  expect(run.code).toBe(0);
  expect(JSON.parse(run.stdout)).toMatchObject({ ran: true, result: { events: 0, inbox: 0, dedup_keys: 0 } });
  const jobs = (await (await fetch(`${b.url}/v1/jobs`, { headers: auth })).json()) as { jobs: { name: string; runs: number; last_instance: string }[] };
  expect(jobs.jobs).toMatchObject([{ name: "retention", runs: 1 }]);
  expect(jobs.jobs[0]!.last_instance).toContain("-cli-");
  const typo = runBinary(["jobs", "run", "stael", "--config", config]);
  expect(typo.code).toBe(2);
  expect(typo.stderr).toContain('jobs run: no job named "stael" with this config; the jobs are retention');

  // backup: the pg_dump command for this database, the password masked; a failure, not a copy.
  const target = join(tempDir(), "wa.dump");
  const backup = runBinary(["backup", "--config", config, target]);
  expect(backup.code).toBe(1);
  const masked = url.replace(":s3cret-pw@", ":********@");
  expect(backup.stderr).toContain('backup: with storage.engine = "postgres" the database is backed up with pg_dump');
  expect(backup.stderr).toContain(`\n  pg_dump --format=custom --file=${target} --dbname='${masked}'\n`);
  expect(backup.stderr).not.toContain("s3cret-pw");
  expect(backup.stdout).toBe("");

  // vacuum works on the SQLite file only: refused, naming what does its job here.
  const vacuum = runBinary(["vacuum", "--config", config]);
  expect({ code: vacuum.code, stderr: vacuum.stderr }).toEqual({
    code: 1,
    stderr: 'wa-webhookd: vacuum works on the SQLite engine\'s file; with storage.engine = "postgres" it is not available in this release: PostgreSQL reclaims space itself (autovacuum: docs/deploy.md, "Several instances on PostgreSQL")\n',
  });
  // retry-dead and the other queue commands work here (test/e2e/postgres-operator.test.ts).
  expect(runBinary(["retry-dead", "--config", config])).toMatchObject({ code: 0, stdout: "retry-dead: 0 dead deliveries queued again; the running daemon sends them\n" });
}, 120_000);
