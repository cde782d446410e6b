/** What an operator sees and relies on: signals, a clean stop, traffic logs, client addresses, overrides. */
import { Database } from "bun:sqlite";
import { afterEach, beforeAll, expect, test } from "bun:test";
import { copyFileSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { WHSEC } from "../support/pipeline";
import { closedPort, Sink } from "../support/sink";
import { BINARY, readInbox, requireBinary, runBinary, startDaemon, tempDir, VERIFY_TOKEN, waitFor, wamidInLog, writeConfig } from "../support/daemon";
import { signedPost, textMessage } from "../support/webhooks";

beforeAll(requireBinary);
const sinks: Sink[] = [];
afterEach(() => sinks.splice(0).forEach((s) => s.stop()));

const logged = (lines: string[], msg: string) => lines.filter((l) => l.includes(`"msg":"${msg}"`)).map((l) => JSON.parse(l) as Record<string, unknown>);

test("SIGHUP does not kill the daemon: with the file unchanged it reloads, changes nothing and keeps serving", async () => {
  const daemon = await startDaemon(writeConfig(tempDir()));
  daemon.proc.kill("SIGHUP");
  await waitFor(() => logged(daemon.lines, "config reloaded").length === 1);
  expect(logged(daemon.lines, "config reloaded")[0]!.changed).toEqual([]);
  expect(daemon.proc.exitCode).toBeNull();
  expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.HUP"))).status).toBe(200);
  expect(await daemon.stop()).toBe(0);
});

test("after SIGTERM the WAL is folded in: the database file alone holds every acknowledged row", async () => {
  const dir = tempDir();
  const daemon = await startDaemon(writeConfig(dir));
  const posts = await Promise.all(Array.from({ length: 200 }, (_, i) => signedPost(`${daemon.url}/webhook`, textMessage(`wamid.WAL${i}`))));
  expect(posts.every((r) => r.status === 200)).toBe(true);
  expect(await daemon.stop()).toBe(0);
  const wal = join(dir, "data/wa.db-wal");
  expect(!existsSync(wal) || statSync(wal).size === 0).toBe(true);
  // A plain copy of the main file, as a backup after `systemctl stop` would take it.
  const copy = join(tempDir(), "copy.db");
  copyFileSync(join(dir, "data/wa.db"), copy);
  expect(readInbox(copy)).toHaveLength(200);
});

test("traffic: a summary line at info while webhooks flow; per-item lines at debug; never phone numbers or bodies", async () => {
  const sink = new Sink().start();
  sinks.push(sink);
  const dir = tempDir();
  const hooks = `traffic_interval = "500ms"\n\n[[hooks]]\nname = "app"\nurl = "${sink.url}"\nsecret = "${WHSEC}"\n`;
  const info = await startDaemon(writeConfig(dir, { toml: hooks }));
  for (let i = 0; i < 3; i++) expect((await signedPost(`${info.url}/webhook`, textMessage(`wamid.T${i}`, "secret text"))).status).toBe(200);
  await waitFor(() => sink.received.length === 3);
  await waitFor(() => logged(info.lines, "traffic").reduce((n, l) => n + (l.delivered as number), 0) === 3);
  const traffic = logged(info.lines, "traffic");
  const sum = (k: string) => traffic.reduce((n, l) => n + (l[k] as number), 0);
  expect({ stored: sum("stored"), events: sum("events"), delivered: sum("delivered"), failed: sum("failed"), dead: sum("dead") }).toEqual({
    stored: 3,
    events: 3,
    delivered: 3,
    failed: 0,
    dead: 0,
  });
  expect(logged(info.lines, "stored")).toHaveLength(0); // per-POST lines are debug only
  expect(await info.stop()).toBe(0);

  const d = await startDaemon(writeConfig(tempDir(), { toml: hooks, logLevel: "debug" }));
  expect((await signedPost(`${d.url}/webhook`, textMessage("wamid.DEBUG", "secret text"))).status).toBe(200);
  await waitFor(() => logged(d.lines, "delivery attempt").length === 1);
  const [stored] = logged(d.lines, "stored");
  expect(stored).toMatchObject({ level: "debug", inbox_id: 1, remote: "127.0.0.1", changes: 1 });
  expect(stored!.bytes).toBe(textMessage("wamid.DEBUG", "secret text").length);
  expect(logged(d.lines, "event")[0]).toMatchObject({ type: "message.received", wamid: wamidInLog("wamid.DEBUG"), inbox_id: 1 });
  expect(logged(d.lines, "delivery attempt")[0]).toMatchObject({ hook: "app", attempt: 1, status: 200, outcome: "done" });
  expect(await d.stop()).toBe(0);
  for (const line of [...info.lines, ...d.lines]) {
    expect(line).not.toContain("16505551234");
    expect(line).not.toContain("secret text");
  }
});

test("behind a trusted proxy the client address comes from X-Forwarded-For, in logs and in the inbox", async () => {
  const dir = tempDir();
  const daemon = await startDaemon(writeConfig(dir));
  const viaCaddy = { "x-forwarded-for": "198.51.100.1, 203.0.113.7" };
  expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.XFF"), undefined, viaCaddy)).status).toBe(200);
  expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.BAD"), "wrong-secret", viaCaddy)).status).toBe(401);
  await waitFor(() => logged(daemon.lines, "webhook rejected").length === 1);
  expect(logged(daemon.lines, "webhook rejected")[0]).toMatchObject({ status: 401, remote: "203.0.113.7" });
  expect(await daemon.stop()).toBe(0);
  const db = new Database(join(dir, "data/wa.db"), { readonly: true });
  expect(db.query("SELECT remote_addr, forwarded_for FROM inbox").all()).toEqual([{ remote_addr: "203.0.113.7", forwarded_for: "198.51.100.1, 203.0.113.7" }]);
  db.close();

  // Nobody trusted: the header is kept, but the peer is the client.
  const strict = tempDir();
  const untrusting = await startDaemon(writeConfig(strict, { server: "trusted_proxies = []" }));
  expect((await signedPost(`${untrusting.url}/webhook`, textMessage("wamid.XFF2"), undefined, viaCaddy)).status).toBe(200);
  expect(await untrusting.stop()).toBe(0);
  expect(readInbox(join(strict, "data/wa.db")).at(-1)!.remote_addr).toBe("127.0.0.1");
});

test("--listen overrides server.listen (make run PORT=…)", async () => {
  const port = closedPort();
  const dir = tempDir();
  const config = writeConfig(dir);
  const daemon = await startDaemon(config, [BINARY, "--config", config, "--listen", `127.0.0.1:${port}`]);
  expect(daemon.port).toBe(port);
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  expect(await daemon.stop()).toBe(0);
});

test("sign without --config says it uses the dev secret; --config with --secret is a usage error", () => {
  const dev = runBinary(["sign"], { stdin: "{}" });
  expect(dev.code).toBe(0);
  expect(dev.stderr).toContain("signing with the embedded dev config's app secret");
  const both = runBinary(["sign", "--config", "x.toml", "--secret", "s"], { stdin: "{}" });
  expect(both.code).toBe(2);
  expect(both.stderr).toStartWith("wa-webhookd: give --config or --secret, not both");
});

test("a flood of bad requests: 20 lines per reason a minute, every one counted; only a signature's shape is logged; the handshake's echo is never sniffed", async () => {
  const daemon = await startDaemon(writeConfig(tempDir()));
  for (let i = 0; i < 50; i++) expect((await signedPost(`${daemon.url}/webhook`, textMessage(`wamid.FLOOD${i}`), "wrong-secret")).status).toBe(401);
  const odd = await fetch(`${daemon.url}/webhook`, { method: "POST", body: "{}", headers: { "x-hub-signature-256": "+1 650 555 1234" } });
  expect(odd.status).toBe(401);
  await waitFor(async () => ((await (await fetch(`${daemon.url}/metrics`)).text()).match(/wa_webhook_requests_total\{outcome="bad_signature"\} (\d+)/)?.[1] ?? "") === "51");
  const lines = logged(daemon.lines, "webhook rejected");
  const wrong = lines.filter((l) => l.reason === lines[0]!.reason);
  expect(wrong.length).toBe(20);
  const shapeless = lines.find((l) => String(l.signature_prefix).startsWith("(not a signature"));
  expect(shapeless?.signature_prefix).toBe("(not a signature, 15 characters)");
  expect(daemon.lines.join("\n")).not.toContain("650 555");

  const echo = await fetch(`${daemon.url}/webhook?hub.mode=subscribe&hub.verify_token=${encodeURIComponent(VERIFY_TOKEN)}&hub.challenge=%3Cscript%3E`);
  expect(echo.status).toBe(200);
  expect(echo.headers.get("x-content-type-options")).toBe("nosniff");
  expect(await daemon.stop()).toBe(0);
});

test("a POST to a path with no route is logged (Meta's callback URL pointing elsewhere), and a token sent without its Bearer scheme is said so", async () => {
  const daemon = await startDaemon(writeConfig(tempDir()));
  expect((await signedPost(`${daemon.url}/webhooks`, textMessage("wamid.ELSEWHERE"))).status).toBe(404);
  expect((await fetch(`${daemon.url}/v1/stats`, { headers: { authorization: "e2e-admin-token-0123456789" } })).status).toBe(401);
  await waitFor(() => logged(daemon.lines, "request refused").length === 1);
  expect(logged(daemon.lines, "request rejected")).toEqual([expect.objectContaining({ method: "POST", status: 404, path: "/webhooks", reason: expect.stringContaining("server.webhook_path") })]);
  expect(logged(daemon.lines, "request refused")[0]).toMatchObject({ path: "/v1/stats", reason: "no Bearer scheme" });
  expect(await daemon.stop()).toBe(0);
});
