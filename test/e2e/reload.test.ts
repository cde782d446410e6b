/**
 * SIGHUP reloads the config on the compiled binary: app secrets, verify token, admin
 * token, hooks and log level change at once; a delivery in flight finishes under the
 * old settings; a change of listen address is named as needing a restart; an invalid
 * file is refused with its key, and the running config stays.
 */
import { beforeAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { requireBinary, SECRETS, startDaemon, stopAfterEach, tempDir, VERIFY_TOKEN, waitFor, writeConfig, type Daemon } from "../support/daemon";
import { TOKEN } from "../support/filled";
import { hookToml } from "../support/pipeline";
import { Sink } from "../support/sink";
import { signedPost, textMessage } from "../support/webhooks";

beforeAll(requireBinary);
const { daemons, sinks } = stopAfterEach();


/** Sends SIGHUP and waits for the reload's verdict line after it. */
async function reload(daemon: Daemon): Promise<{ msg: string; [k: string]: unknown }> {
  const from = daemon.lines.length;
  daemon.proc.kill("SIGHUP");
  let verdict: { msg: string } | undefined;
  await waitFor(() => {
    verdict = daemon.lines.slice(from).map((l) => JSON.parse(l)).find((l) => l.msg === "config reloaded" || l.msg.startsWith("reload refused") || l.msg.startsWith("reload failed"));
    return verdict !== undefined;
  }, 10_000);
  return verdict!;
}

test("SIGHUP applies new secrets, tokens, hooks and log level; a delivery in flight finishes under the old hooks", async () => {
  const old = new Sink().start();
  const fresh = new Sink().start();
  sinks.push(old, fresh);
  // The old hook answers slowly: its delivery is in flight when the reload removes it.
  old.respond = async () => (await Bun.sleep(800), new Response("ok"));
  const dir = tempDir();
  const config = writeConfig(dir, { toml: hookToml(old.url, "old") });
  const daemon = await startDaemon(config);
  daemons.push(daemon);
  expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.BEFORE"))).status).toBe(200);
  await waitFor(() => old.received.length === 1, 10_000);

  const text = readFileSync(config, "utf8");
  writeFileSync(
    config,
    text
      .replace(JSON.stringify(SECRETS), '["rotated-app-secret"]')
      .replace(VERIFY_TOKEN, "rotated-verify-token")
      .replace(TOKEN, "rotated-admin-token-0123456789")
      .replace('level = "info"', 'level = "debug"\ntraffic_interval = "1s"')
      .replace('listen = "127.0.0.1:0"', 'listen = "127.0.0.1:1"')
      .replace(hookToml(old.url, "old"), hookToml(fresh.url, "fresh")),
  );
  const verdict = await reload(daemon);
  expect(verdict.msg).toBe("config reloaded");
  expect(verdict.changed).toEqual(expect.arrayContaining(["admin.token", "hooks", "log.level", "log.traffic_interval", "whatsapp.app_secrets", "whatsapp.verify_token"]));
  expect(JSON.stringify(verdict)).not.toContain("rotated");
  const restart = daemon.lines.map((l) => JSON.parse(l)).find((l) => l.msg === "config changes that need a restart were not applied");
  expect(restart.keys).toEqual(["server.listen"]);

  // The delivery that was in flight finished, to the old hook.
  const events = await (await fetch(`${daemon.url}/v1/events`, { headers: { authorization: "Bearer rotated-admin-token-0123456789" } })).json() as { data: { id: string }[] };
  const detail = await (await fetch(`${daemon.url}/v1/events/${events.data[0]!.id}`, { headers: { authorization: "Bearer rotated-admin-token-0123456789" } })).json() as { deliveries: { hook: string; state: string }[] };
  expect(detail.deliveries).toEqual([expect.objectContaining({ hook: "old", state: "done" })]);
  // The old admin token, app secret and verify token are refused; the new ones work.
  expect((await fetch(`${daemon.url}/v1/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(401);
  expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.OLDSECRET"))).status).toBe(401);
  expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.AFTER"), "rotated-app-secret")).status).toBe(200);
  const handshake = (token: string) => fetch(`${daemon.url}/webhook?hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=42`);
  expect((await handshake(VERIFY_TOKEN)).status).toBe(403);
  expect(await (await handshake("rotated-verify-token")).text()).toBe("42");
  // New events go to the new hook only; debug lines now appear.
  await waitFor(() => fresh.received.length === 1, 10_000);
  expect(JSON.parse(fresh.received[0]!.body).data.wamid).toBe("wamid.AFTER");
  expect(old.received).toHaveLength(1);
  expect(daemon.lines.some((l) => l.includes('"level":"debug"'))).toBe(true);
  // The traffic line now comes every second (it was every 10).
  await waitFor(() => daemon.lines.some((l) => l.includes('"msg":"traffic"')), 3_000);
});

test("an invalid config on SIGHUP is refused with its keys, and the running config stays", async () => {
  const dir = tempDir();
  const config = writeConfig(dir);
  const daemon = await startDaemon(config);
  daemons.push(daemon);
  const text = readFileSync(config, "utf8");
  writeFileSync(config, text.replace('level = "info"', 'level = "loud"\ntraffic_intervall = "5s"'));
  const verdict = await reload(daemon);
  expect(verdict).toMatchObject({ msg: "reload refused: the new config is invalid; the running config stays", level: "error" });
  const keys = (verdict.problems as string[]).map((p) => p.slice(0, p.indexOf(":")));
  expect(keys.sort()).toEqual(["log.level", "log.traffic_intervall"]);
  expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.STILL"))).status).toBe(200);
  // Fixed, it applies.
  writeFileSync(config, text);
  expect((await reload(daemon)).msg).toBe("config reloaded");
  expect(await daemon.stop()).toBe(0);
});
