/**
 * Operator commands against a running daemon, as an operator's shell runs them:
 * another working directory, none of the service's secrets in the environment.
 */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WHSEC } from "../support/pipeline";
import { Sink } from "../support/sink";
import { requireBinary, runBinary, SECRETS, startDaemon, tempDir, VERIFY_TOKEN, waitFor, type Daemon } from "../support/daemon";
import { signedPost, textMessage } from "../support/webhooks";

beforeAll(requireBinary);

const app = new Sink().start();
const audit = new Sink().start();
const dir = tempDir("wa-ops-");
const credentials = join(dir, "credentials"); // exists only "while the service runs"
const config = join(dir, "config.toml");
let daemon: Daemon;
let messageEvent = "";

/** A service's config: every secret from the environment or a credentials file, the database path relative. */
function writeServiceConfig() {
  mkdirSync(credentials, { recursive: true });
  writeFileSync(join(credentials, "app_secrets"), SECRETS.join("\n") + "\n");
  writeFileSync(join(credentials, "audit_hook"), WHSEC + "\n");
  writeFileSync(
    config,
    `[server]
listen = "127.0.0.1:0"
shutdown_timeout = "5s"
[storage]
path = "data/wa.db"
[whatsapp]
verify_token = "${VERIFY_TOKEN}"
app_secrets_file = "${credentials}/app_secrets"
[admin]
token = "\${WA_ADMIN_TOKEN}"
[[hooks]]
name = "app"
url = "${app.url}"
secret = "\${APP_HOOK_SECRET}"
events = ["message.*"]
[[hooks]]
name = "audit"
url = "${audit.url}"
secret_file = "${credentials}/audit_hook"
`,
    { mode: 0o600 },
  );
}

const unknownField = JSON.stringify({
  object: "whatsapp_business_account",
  entry: [{ id: "102290129340398", time: 1763900000, changes: [{ field: "some_future_field", value: { anything: true } }] }],
});

/** An operator's shell: elsewhere, no service environment, no credentials directory. */
const operator = (...args: string[]) => runBinary([...args, "--config", config], { cwd: tempDir("wa-operator-home-") });

const deliveries = () => {
  const db = new Database(join(dir, "data/wa.db"), { readonly: true });
  try {
    return (db.query("SELECT count(*) n FROM deliveries").get() as { n: number }).n;
  } finally {
    db.close();
  }
};

beforeAll(async () => {
  writeServiceConfig();
  daemon = await startDaemon(config, undefined, { env: { WA_ADMIN_TOKEN: "e2e-admin-token-0123456789", APP_HOOK_SECRET: WHSEC }, cwd: tempDir("wa-service-cwd-") });
  expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.OPS1"))).status).toBe(200);
  expect((await signedPost(`${daemon.url}/webhook`, unknownField)).status).toBe(200);
  await waitFor(() => app.received.length === 1 && audit.received.length === 2);
  messageEvent = app.received[0]!.headers["webhook-id"]!;
});

afterAll(async () => {
  expect(await daemon.stop()).toBe(0);
  app.stop();
  audit.stop();
});

test("a relative storage.path lives beside the config file, whatever the daemon's working directory", () => {
  expect(existsSync(join(dir, "data/wa.db"))).toBe(true);
  const listening = JSON.parse(daemon.lines.find((l) => l.includes('"msg":"listening"'))!);
  expect(listening.database).toBe(join(dir, "data/wa.db"));
});

test("replay --event ID queues exactly one delivery per interested hook, without the service's secrets", async () => {
  const before = { app: app.received.length, audit: audit.received.length };
  const r = operator("replay", "--event", messageEvent);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout).toBe("replay: 1 event matched; 2 deliveries queued (app: 1, audit: 1); the running daemon sends them\n");
  await waitFor(() => app.received.length === before.app + 1 && audit.received.length === before.audit + 1);
  await Bun.sleep(300);
  expect(app.received.length).toBe(before.app + 1);
  expect(audit.received.length).toBe(before.audit + 1);
  expect(app.received.at(-1)!.headers["webhook-id"]).toBe(messageEvent);
});

test("replay of an unknown event id queues nothing and exits 1", async () => {
  const before = deliveries();
  const sent = app.received.length + audit.received.length;
  const r = operator("replay", "--event", "evt_NOPE");
  expect(r.code).toBe(1);
  expect(r.stderr).toBe("wa-webhookd: no event evt_NOPE\n");
  expect(r.stdout).toBe("");
  await Bun.sleep(300);
  expect(deliveries()).toBe(before);
  expect(app.received.length + audit.received.length).toBe(sent);
});

test("replay --hook respects that hook's filters unless --force", async () => {
  const before = app.received.length;
  const filtered = operator("replay", "--hook", "app", "--since", "1970-01-01", "--json");
  expect(filtered.code).toBe(0);
  expect(JSON.parse(filtered.stdout)).toEqual({ events: 2, queued: { app: 1 } });
  await waitFor(() => app.received.length === before + 1);
  const types = () => app.received.map((r) => (JSON.parse(r.body) as { type: string }).type);
  expect(types().every((t) => t.startsWith("message."))).toBe(true);

  const onlyUnknown = operator("replay", "--hook", "app", "--type", "webhook.unknown");
  expect(onlyUnknown.stdout).toBe("replay: 1 event matched; hook app's filters exclude them all, nothing queued (add --force to send them anyway)\n");

  const forced = operator("replay", "--hook", "app", "--type", "webhook.*", "--force");
  expect(forced.code).toBe(0);
  expect(forced.stdout).toStartWith("replay: 1 event matched; 1 delivery queued (app: 1)");
  await waitFor(() => types().includes("webhook.unknown"));
});

test("operator input is validated like the config: exit 2 with usage", () => {
  const cases: [string[], string][] = [
    [["retry-dead", "--hook", "nosuchhook"], '--hook: no hook named "nosuchhook" in the config (hooks: app, audit)'],
    [["retry-dead", "--hook", "aduit"], '--hook: no hook named "aduit" in the config; did you mean "audit"? (hooks: app, audit)'],
    [["reprocess", "--inbox", "abc"], '--inbox: expected a positive row id, got "abc"'],
    [["replay", "--type", "mesage.*"], '--type: "mesage.*" matches no event type'],
    [["replay", "--since", "2026-11-20", "--until", "2026-11-01"], "--until must be later than --since"],
    [["replay", "--since", "yesterday"], '--since: expected an RFC 3339 time'],
  ];
  for (const [args, message] of cases) {
    const r = operator(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith(`wa-webhookd: ${message}`);
    expect(r.stderr).toContain("Usage:");
    expect(r.stderr).not.toContain("wa-webhookd: config error");
  }
});

test("retry-dead and reprocess say what they did in one line", () => {
  expect(operator("retry-dead", "--hook", "app")).toMatchObject({ code: 0, stdout: "retry-dead: 0 dead deliveries of hook app queued again; the running daemon sends them\n" });
  expect(operator("reprocess")).toMatchObject({ code: 0, stdout: "reprocess: 0 dead inbox rows queued for processing again; the running daemon processes them\n" });
  expect(operator("reprocess", "--inbox", "1")).toMatchObject({ code: 1, stderr: "wa-webhookd: inbox row 1 is not dead (state: done)\n" });
  expect(operator("reprocess", "--inbox", "999")).toMatchObject({ code: 1, stderr: "wa-webhookd: no inbox row 999\n" });
});

test("operator commands never create a database: a missing file is an error naming the path", () => {
  const elsewhere = tempDir("wa-ops-empty-");
  const other = join(elsewhere, "config.toml");
  writeFileSync(other, (require("node:fs").readFileSync(config, "utf8") as string).replace('path = "data/wa.db"', 'path = "state/wa.db"'));
  const cwd = tempDir("wa-operator-home-");
  for (const args of [["retry-dead"], ["reprocess"], ["replay", "--since", "1970-01-01"]]) {
    const r = runBinary([...args, "--config", other], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`storage.path: no database at ${join(elsewhere, "state/wa.db")}`);
  }
  expect(existsSync(join(elsewhere, "state"))).toBe(false);
  expect(existsSync(join(cwd, "state"))).toBe(false);
  expect(existsSync(join(cwd, "data"))).toBe(false);
});

test("check prints the absolute database path", () => {
  const r = runBinary(["check", "--config", config], { cwd: tempDir(), env: { WA_ADMIN_TOKEN: "e2e-admin-token-0123456789", APP_HOOK_SECRET: WHSEC } });
  expect(r.code).toBe(0);
  expect(r.stdout).toStartWith(`# ${config}: ok (database: ${join(dir, "data/wa.db")})`);
  expect(JSON.parse(r.stdout.slice(r.stdout.indexOf("\n") + 1)).storage.path).toBe(join(dir, "data/wa.db"));
});

test("operator commands refuse a database of another schema version, naming it, and change nothing", () => {
  const other = tempDir("wa-ops-version-");
  mkdirSync(join(other, "data"));
  const db = new Database(join(other, "data/wa.db"));
  db.run("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT");
  db.run("INSERT INTO schema_migrations VALUES (1, '0001_inbox.sql', 'x')");
  db.close();
  const config = join(other, "config.toml");
  writeFileSync(config, `[whatsapp]\nverify_token = "x"\napp_secrets = ["y"]\n[admin]\ntoken = "0123456789abcdef"\n[storage]\npath = "data/wa.db"\n`, { mode: 0o600 });
  const r = runBinary(["reprocess", "--config", config], { cwd: tempDir() });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`storage.path: ${join(other, "data/wa.db")} has schema version 1, this binary expects`);
  const after = new Database(join(other, "data/wa.db"), { readonly: true });
  expect(after.query("SELECT max(version) v FROM schema_migrations").get()).toEqual({ v: 1 });
  after.close();
});
