/**
 * The operator commands for production on the compiled binary: `init` writes a working
 * config with fresh secrets, `send-test` triggers every sample type against the running
 * daemon, `backup` copies the live database under load consistently (0600), and `stats`
 * prints the /v1/stats figures.
 */
import { Database } from "bun:sqlite";
import { beforeAll, expect, test } from "bun:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Stats } from "../../src/admin/responses";
import { requireBinary, runBinary, SECRETS, startDaemon, stopAfterEach, tempDir, waitFor, writeConfig, BINARY } from "../support/daemon";
import { ADMIN, type Page } from "../support/filled";
import { closedPort } from "../support/sink";
import { statusesPayload, signedPost, textMessage } from "../support/webhooks";

beforeAll(requireBinary);
const { daemons } = stopAfterEach();

test("init writes a 0600 config with fresh secrets that the daemon runs on, prints the verify token, and never overwrites", async () => {
  const dir = join(tempDir(), "wa");
  const r = runBinary(["init", "--dir", dir]);
  expect(r.code).toBe(0);
  const path = join(dir, "config.toml");
  expect(statSync(path).mode & 0o777).toBe(0o600);
  const text = readFileSync(path, "utf8");
  const verifyToken = /verify_token = "([0-9a-f]{32})"/.exec(text)![1]!;
  expect(r.stdout).toContain(`Verify token:  ${verifyToken}`);
  expect(text).toMatch(/secret = "whsec_[A-Za-z0-9+/]{43}="/);
  // Another init makes other secrets.
  const other = runBinary(["init", "--dir", join(dir, "other")]);
  expect(readFileSync(join(dir, "other/config.toml"), "utf8")).not.toContain(verifyToken);
  expect(other.code).toBe(0);

  const env = { WA_APP_SECRET: "the-meta-app-secret" };
  expect(runBinary(["check", "--config", path], { env }).code).toBe(0);
  const daemon = await startDaemon(path, [BINARY, "--config", path, "--listen", "127.0.0.1:0"], { env });
  daemons.push(daemon);
  const handshake = await fetch(`${daemon.url}/webhook?hub.mode=subscribe&hub.verify_token=${verifyToken}&hub.challenge=7`);
  expect(await handshake.text()).toBe("7");
  expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.INIT"), "the-meta-app-secret")).status).toBe(200);

  const unwritable = runBinary(["init", "--dir", "/proc/no-such-dir"]);
  expect({ code: unwritable.code, stderr: unwritable.stderr.trim() }).toEqual({ code: 1, stderr: expect.stringMatching(/^wa-webhookd: init: cannot write \/proc\/no-such-dir\/config\.toml: /) });

  const again = runBinary(["init", "--dir", dir]);
  expect(again.code).toBe(1);
  expect(again.stderr).toContain("exists; keeping it");
  expect(readFileSync(path, "utf8")).toBe(text);
});

test("send-test posts every sample type, signed, with fresh wamids, and each becomes the event it names", async () => {
  const dir = tempDir();
  const config = writeConfig(dir);
  const daemon = await startDaemon(config);
  daemons.push(daemon);
  // send-test reads server.listen: point a copy of the config at the port the daemon got.
  const local = join(dir, "send.toml");
  Bun.write(local, readFileSync(config, "utf8").replace('listen = "127.0.0.1:0"', `listen = "127.0.0.1:${daemon.port}"`));
  const types = runBinary(["send-test", "--list"]).stdout.trim().split("\n").map((l) => l.trim().split(/\s+/)[0]!);
  expect(types).toEqual(expect.arrayContaining(["text", "image", "reaction", "status.sent", "status.delivered", "status.read", "status.failed", "template.paused", "quality.flagged"]));
  for (const type of types) {
    const r = runBinary(["send-test", "--config", local, "--type", type]);
    expect({ type, code: r.code, out: r.stdout }).toEqual({ type, code: 0, out: expect.stringMatching(/ → 200 \{"status":"stored"/) });
  }
  const three = runBinary(["send-test", "--config", local, "--type", "text", "--count", "3", "--to", "+351912345678"]);
  const wamids = [...three.stdout.matchAll(/wamid\.TEST\w+/g)].map((m) => m[0]);
  expect(new Set(wamids).size).toBe(3);
  await waitFor(async () => ((await (await fetch(`${daemon.url}/v1/events?limit=100`, { headers: ADMIN })).json()) as Page).data.length === types.length + 3);
  const events = ((await (await fetch(`${daemon.url}/v1/events?limit=100`, { headers: ADMIN })).json()) as Page).data;
  const got = new Set(events.map((e) => e.type));
  for (const t of ["message.received", "message.status", "template.status", "template.quality", "phone_number.quality", "user.preferences", "webhook.unknown"]) expect(got).toContain(t);
  expect(events.filter((e) => e.data.from === "351912345678")).toHaveLength(3);

  const unreachable = join(dir, "closed.toml");
  Bun.write(unreachable, readFileSync(config, "utf8").replace('listen = "127.0.0.1:0"', `listen = "127.0.0.1:${closedPort()}"`));
  const r = runBinary(["send-test", "--config", unreachable, "--type", "text"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("cannot reach the daemon");
  expect(runBinary(["send-test", "--config", local, "--type", "nope"]).code).toBe(2);
});

test("send-test says where it posts, and --listen or --url aims it at a daemon other than server.listen's", async () => {
  const dir = tempDir();
  const config = writeConfig(dir); // server.listen is port 0: only --listen or --url reach the daemon
  const daemon = await startDaemon(config);
  daemons.push(daemon);
  const listen = runBinary(["send-test", "--config", config, "--type", "text", "--listen", `127.0.0.1:${daemon.port}`]);
  expect(listen.code).toBe(0);
  expect(listen.stdout.split("\n")[0]).toBe(`send-test: POST http://127.0.0.1:${daemon.port}/webhook (from --listen)`);
  expect(listen.stdout).toMatch(/^text wamid\.TEST\w+ → 200 \{"status":"stored"/m);
  const url = runBinary(["send-test", "--config", config, "--type", "status.read", "--url", `${daemon.url}/webhook`]);
  expect(url.code).toBe(0);
  expect(url.stdout).toStartWith(`send-test: POST ${daemon.url}/webhook (from --url)\n`);
  expect(url.stdout).toContain(" → 200 ");

  // Another daemon (other secrets) where the config points: the answer and the URL say so.
  const other = join(dir, "other.toml");
  writeFileSync(other, readFileSync(config, "utf8").replace('listen = "127.0.0.1:0"', `listen = "127.0.0.1:${daemon.port}"`).replace(SECRETS[0]!, "another-app-secret"), { mode: 0o600 });
  const refused = runBinary(["send-test", "--config", other, "--type", "text"]);
  expect(refused.code).toBe(1);
  expect(refused.stdout).toStartWith(`send-test: POST http://127.0.0.1:${daemon.port}/webhook (from server.listen)\n`);
  expect(refused.stdout).toContain(" → 401 ");
  expect(refused.stderr).toContain(`http://127.0.0.1:${daemon.port}/webhook refused the signature: is the daemon there running with this config's app secret? Aim with --listen HOST:PORT or --url URL`);

  const bad: [string[], string][] = [
    [["--listen", "8090"], '--listen: expected "host:port", e.g. "127.0.0.1:9090", got "8090"'],
    [["--url", "127.0.0.1:8090/webhook"], '--url: expected an http(s) URL, e.g. "http://127.0.0.1:9090/webhook", got "127.0.0.1:8090/webhook"'],
    [["--listen", "127.0.0.1:8090", "--url", "http://127.0.0.1:8090/webhook"], "give --listen or --url, not both"],
  ];
  for (const [args, message] of bad) {
    const r = runBinary(["send-test", "--config", config, "--type", "text", ...args]);
    expect({ code: r.code, stderr: r.stderr.split("\n")[0] }).toEqual({ code: 2, stderr: `wa-webhookd: ${message}` });
  }
});

test("backup under load: a consistent copy that passes integrity_check and holds a prefix of what was acknowledged; stats prints the figures", async () => {
  const dir = tempDir();
  const dbPath = join(dir, "data/wa.db");
  const config = writeConfig(dir, { storagePath: dbPath });
  const daemon = await startDaemon(config);
  daemons.push(daemon);
  let acked = 0;
  let running = true;
  const load = (async () => {
    for (let i = 0; running; i++) if ((await signedPost(`${daemon.url}/webhook`, textMessage(`wamid.BK${i}`))).status === 200) acked++;
  })();
  await waitFor(() => acked >= 50);
  const ackedBefore = acked;
  const out = join(dir, "backup.db");
  // Spawned, not spawnSync: the POSTs keep coming while the copy is taken.
  const backup = Bun.spawn([BINARY, "backup", "--config", config, out, "--json"], { stdout: "pipe", stderr: "pipe" });
  const [code, stdout] = [await backup.exited, await new Response(backup.stdout).text()];
  const ackedAfter = acked;
  running = false;
  await load;
  expect(code).toBe(0);
  expect(JSON.parse(stdout)).toMatchObject({ path: out, integrity_check: "ok" });
  const copy = new Database(out, { readonly: true });
  const ids = copy.query<{ id: number }, []>("SELECT id FROM inbox ORDER BY id").all().map((x) => x.id);
  copy.close();
  expect(ids.length).toBeGreaterThanOrEqual(ackedBefore);
  expect(ids.length).toBeLessThanOrEqual(ackedAfter + 1);
  expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1)); // a snapshot: no holes
  expect(statSync(out).mode & 0o777).toBe(0o600); // personal data: its owner's only, like the database
  const again = runBinary(["backup", "--config", config, out]);
  expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 1, stderr: `wa-webhookd: backup: ${out} exists; give a new file name\n` }); // never overwrites
  const nowhere = runBinary(["backup", "--config", config, join(dir, "no-such-dir/b.db")]);
  expect({ code: nowhere.code, stderr: nowhere.stderr }).toEqual({ code: 1, stderr: `wa-webhookd: backup: cannot write ${join(dir, "no-such-dir/b.db")}: its directory ${join(dir, "no-such-dir")} does not exist\n` });

  // A price category Meta relayed with an escape sequence in it: shown escaped, never obeyed by the terminal.
  const hostile = statusesPayload({ id: "wamid.ESC1", status: "delivered", timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: "16505551234", pricing: { billable: true, pricing_model: "PMP", category: "x\u001b]0;PWNED\u0007\u001b[2J" } });
  expect((await signedPost(`${daemon.url}/webhook`, JSON.stringify(hostile))).status).toBe(200);
  await waitFor(() => runBinary(["stats", "--config", config]).stdout.includes("pwned"));
  const table = runBinary(["stats", "--config", config]);
  expect(table.code).toBe(0);
  expect(table.stdout).toMatch(/events \(1 h\)\s+message\.received \d+/);
  expect(table.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  expect(table.stdout).toContain("\\u001b]0;pwned\\u0007\\u001b[2j");
  const json = runBinary(["stats", "--config", config, "--json"]);
  expect(Stats.safeParse(JSON.parse(json.stdout)).success).toBe(true);
});
