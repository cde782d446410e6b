/**
 * `replay`, `retry-dead`, `reprocess` and `orphans` on a PostgreSQL config, on the compiled
 * binary against a real server: fed the same webhooks as a SQLite daemon, each command
 * prints what it prints on SQLite (its line, its JSON, its refusals), and the instance
 * does the work (the sink gets the events again under the same webhook-id). With no live
 * instance they refuse, since no hooks are then the daemon's.
 */
import { expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { requireBinary, runBinary, startDaemon, stopAfterEach, tempDir, waitFor, writeConfig, type Daemon } from "../support/daemon";
import { ADMIN } from "../support/filled";
import { hookToml } from "../support/pipeline";
import { freshDatabase } from "../support/postgres";
import { closedPort, Sink } from "../support/sink";
import { signedPost, statusesPayload, textMessage } from "../support/webhooks";

requireBinary();
const { daemons, sinks } = stopAfterEach();

type Delivery = { hook: string; state: string; event_id: string };
type Event = { id: string; type: string };

/** One daemon of an engine: hook app (a sink failing until flipped: its deliveries go dead) and hook crm (nothing listens: pending for an hour). */
interface Side {
  name: string;
  config: string;
  daemon: Daemon;
  app: Sink;
  crm: string;
  run(...args: string[]): { code: number; stdout: string; stderr: string };
  get<T>(path: string): Promise<T>;
}

async function side(name: "sqlite" | "postgres"): Promise<Side> {
  const app = new Sink().start();
  sinks.push(app);
  app.respond = () => new Response("down", { status: 500 });
  const crm = hookToml(`http://127.0.0.1:${closedPort()}/hook`, "crm", 'events = ["message.received"]\nretry_schedule = ["1h"]');
  const toml = hookToml(app.url, "app", 'retry_schedule = ["1s"]') + crm;
  const postgres = name === "postgres" ? { storage: `engine = "postgres"\nurl = "${await freshDatabase()}"\npool = 4`, server: 'instance = "wa-op"' } : {};
  const config = writeConfig(tempDir(`wa-op-${name}-`), { toml, ...postgres });
  const daemon = await startDaemon(config);
  daemons.push(daemon);
  return {
    name,
    config,
    daemon,
    app,
    crm,
    run: (...args) => runBinary([...args, "--config", config]),
    get: async <T>(path: string) => (await (await fetch(`${daemon.url}${path}`, { headers: ADMIN })).json()) as T,
  };
}

const WEBHOOKS = [
  textMessage("wamid.OPPG1"),
  textMessage("wamid.OPPG2"),
  JSON.stringify(statusesPayload({ id: "wamid.OPPG1", status: "sent", timestamp: "1750000000", recipient_id: "16505551234" })),
  "this is {not json",
];

/** The same command on both engines: the same exit code, stdout and stderr. */
function same(sides: Side[], ...args: string[]) {
  const [sqlite, postgres] = sides.map((s) => s.run(...args));
  expect({ args, ...postgres! }).toEqual({ args, ...sqlite! });
  return sqlite!;
}

/**
 * Both engines' daemons, started together; every daemon that started is in `daemons`
 * before a failure is thrown (a PostgreSQL side that cannot connect must not leave the
 * SQLite daemon running past the test's cleanup).
 */
async function bothSides(): Promise<Side[]> {
  const settled = await Promise.allSettled([side("sqlite"), side("postgres")]);
  for (const s of settled) if (s.status === "rejected") throw s.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<Side>).value);
}

async function reload(s: Side) {
  const from = s.daemon.lines.length;
  s.daemon.proc.kill("SIGHUP");
  await waitFor(() => s.daemon.lines.slice(from).some((l) => l.includes('"msg":"config reloaded"')), 10_000);
}

test("replay, retry-dead, reprocess and orphans on a PostgreSQL config say and do what they do on SQLite", async () => {
  const sides = await bothSides();
  const dead = new Map<string, number>();
  for (const s of sides) {
    for (const body of WEBHOOKS) {
      const res = await signedPost(`${s.daemon.url}/webhook`, body);
      expect(res.status).toBe(200);
      if (body.startsWith("this")) dead.set(s.name, ((await res.json()) as { id: number }).id);
    }
  }
  // app's three deliveries dead (two attempts, 1 s apart), crm's two pending, the non-JSON webhook dead.
  for (const s of sides) {
    await waitFor(async () => (await s.get<{ data: Delivery[] }>("/v1/deliveries?state=dead&hook=app")).data.length === 3, 20_000);
    await waitFor(async () => (await s.get<{ data: unknown[] }>("/v1/inbox?state=dead")).data.length === 1, 20_000);
    expect((await s.get<{ data: Delivery[] }>("/v1/deliveries?state=pending&hook=crm")).data).toHaveLength(2);
  }
  expect(dead.get("postgres")).toBe(dead.get("sqlite"));

  // retry-dead: app's dead deliveries go out again, now that it answers.
  for (const s of sides) s.app.respond = () => new Response("ok");
  const sent = (s: Side) => s.app.received.filter((r) => r.headers["webhook-id"]);
  const before = sides.map((s) => sent(s).length);
  expect(same(sides, "retry-dead", "--hook", "app").stdout).toBe("retry-dead: 3 dead deliveries of hook app queued again; the running daemon sends them\n");
  expect(same(sides, "retry-dead", "--json")).toMatchObject({ code: 0, stdout: '{"retried":0}\n' });
  for (const [i, s] of sides.entries()) await waitFor(() => sent(s).length === before[i]! + 3, 20_000);

  // replay by type and time: the messages again, to app alone (crm's are still pending), under the same webhook-id.
  const events = await Promise.all(sides.map((s) => s.get<{ data: Event[] }>("/v1/events")));
  const received = (s: Side, i: number) => events[i]!.data.filter((e) => e.type === "message.received").map((e) => e.id).sort();
  const count = sides.map((s) => sent(s).length);
  expect(same(sides, "replay", "--type", "message.received", "--since", "1970-01-01", "--hook", "app").stdout).toBe(
    "replay: 2 events matched; 2 deliveries queued (app: 2); the running daemon sends them\n",
  );
  for (const [i, s] of sides.entries()) {
    await waitFor(() => sent(s).length === count[i]! + 2, 20_000);
    expect(sent(s).slice(count[i]).map((r) => r.headers["webhook-id"]).sort()).toEqual(received(s, i));
  }
  // replay of one event by the hooks' filters: the status goes to app only (crm wants messages received).
  const statusOf = (i: number) => events[i]!.data.find((e) => e.type !== "message.received")!.id;
  const one = sides.map((s, i) => s.run("replay", "--event", statusOf(i), "--json"));
  expect(one.map((r) => [r.code, JSON.parse(r.stdout)])).toEqual([[0, { events: 1, queued: { app: 1 } }], [0, { events: 1, queued: { app: 1 } }]]);
  for (const [i, s] of sides.entries()) await waitFor(() => sent(s).at(-1)?.headers["webhook-id"] === statusOf(i), 20_000);
  same(sides, "replay", "--event", "01J00000000000000000000000");
  expect(same(sides, "replay", "--since", "1970-01-01", "--hook", "nope").code).toBe(2);

  // reprocess: the non-JSON webhook once more (dead again at once), then every dead one; a row not dead or missing is refused.
  const id = String(dead.get("sqlite"));
  expect(same(sides, "reprocess", "--inbox", id).stdout).toBe("reprocess: 1 dead inbox row queued for processing again; the running daemon processes them\n");
  for (const s of sides) await waitFor(async () => (await s.get<{ data: unknown[] }>("/v1/inbox?state=dead")).data.length === 1, 20_000);
  expect(same(sides, "reprocess", "--json")).toMatchObject({ code: 0, stdout: '{"revived":1}\n' });
  expect(same(sides, "reprocess", "--inbox", "1")).toMatchObject({ code: 1, stderr: "wa-webhookd: inbox row 1 is not dead (state: done)\n" });
  expect(same(sides, "reprocess", "--inbox", "999")).toMatchObject({ code: 1, stderr: "wa-webhookd: no inbox row 999\n" });

  // orphans: crm removed from the config and the daemon reloaded: its two pending deliveries are no one's.
  // The lease changes too: on PostgreSQL it waits for a restart (the pool's sessions were opened with it).
  for (const s of sides) {
    const from = s.daemon.lines.length;
    writeFileSync(s.config, readFileSync(s.config, "utf8").replace(s.crm, "") + '\n[worker]\nlease = "90s"\n');
    await reload(s);
    const said = s.daemon.lines.slice(from).map((l) => JSON.parse(l));
    const waiting = said.find((l) => l.msg === "config changes that need a restart were not applied")?.keys ?? [];
    const applied = said.find((l) => l.msg === "config reloaded")!.changed;
    expect({ engine: s.name, waiting, applied }).toEqual(
      s.name === "postgres" ? { engine: s.name, waiting: ["worker.lease"], applied: ["hooks"] } : { engine: s.name, waiting: [], applied: ["hooks", "worker.lease"] },
    );
  }
  expect(same(sides, "orphans").stdout).toBe("orphans: crm: 2 pending; cancel them with --cancel, or queue them to a hook the daemon runs with --move-to HOOK\n");
  expect(same(sides, "retry-dead", "--hook", "crm").stderr).toContain('--hook: the daemon no longer runs hook "crm"; its open deliveries (2) are orphaned');
  expect(same(sides, "orphans", "--move-to", "crm").stderr).toContain('--move-to: the daemon runs no hook named "crm" (it runs: app)');
  expect(same(sides, "orphans", "--cancel", "--hook", "app").stderr).toContain('--hook: "app" has no orphaned deliveries: the daemon runs it');
  expect(JSON.parse(same(sides, "orphans", "--cancel", "--json").stdout)).toEqual({ cancelled: { crm: 2 }, moved_to: null, queued: 0 });
  expect(same(sides, "orphans").stdout).toBe("orphans: none (the daemon runs: app)\n");

  // With no live instance no hooks are the daemon's: refused, where SQLite uses its stopped daemon's.
  const postgres = sides[1]!;
  await waitFor(async () => (await postgres.get<{ data: unknown[] }>("/v1/inbox?state=dead")).data.length === 1, 20_000);
  expect(await postgres.daemon.stop()).toBe(0);
  for (const args of [["retry-dead"], ["orphans", "--cancel"], ["replay", "--since", "1970-01-01"]]) {
    const r = postgres.run(...args);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`wa-webhookd: ${args[0]}: no instance is live on this database`);
  }
  // reprocess names no hook: the next instance to start processes the row.
  expect(postgres.run("reprocess")).toMatchObject({ code: 0, stdout: "reprocess: 1 dead inbox row queued for processing again; the running daemon processes them\n" });
}, 120_000);

test("a replay by the hooks' filters is refused while live instances run one hook with different filters; forced to that hook, it goes", async () => {
  const url = await freshDatabase();
  const sink = new Sink().start();
  sinks.push(sink);
  const instance = async (name: string, events: string) => {
    const storage = `engine = "postgres"\nurl = "${url}"\npool = 4`;
    const config = writeConfig(tempDir(`wa-op-${name}-`), { storage, server: `instance = "${name}"`, toml: hookToml(sink.url, "app", `events = ${events}`) });
    const daemon = await startDaemon(config);
    daemons.push(daemon);
    return { config, daemon };
  };
  const a = await instance("wa-a", '["message.*"]');
  const b = await instance("wa-b", '["*"]');
  expect((await signedPost(`${b.daemon.url}/webhook`, textMessage("wamid.OPPGF1"))).status).toBe(200);
  await waitFor(() => sink.received.length === 1, 20_000);
  const refused = runBinary(["replay", "--since", "1970-01-01", "--config", a.config]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('wa-webhookd: replay: the live instances run hook "app" with different filters');
  expect(runBinary(["replay", "--since", "1970-01-01", "--hook", "app", "--force", "--config", a.config]).stdout).toBe(
    "replay: 1 event matched; 1 delivery queued (app: 1); the running daemon sends them\n",
  );
  await waitFor(() => sink.received.length === 2, 20_000);
  expect(sink.received[1]!.headers["webhook-id"]).toBe(sink.received[0]!.headers["webhook-id"]);
}, 120_000);
