/** The whole pipeline through the compiled binary: signed POSTs → events → a real hook. */
import { Database } from "bun:sqlite";
import { afterEach, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { BINARY, requireBinary, startDaemon, tempDir, waitFor, writeConfig } from "../support/daemon";
import { WHSEC } from "../support/pipeline";
import { Sink } from "../support/sink";
import { burst, signedPost, textMessage } from "../support/webhooks";

beforeAll(requireBinary);
const sinks: Sink[] = [];
afterEach(() => sinks.splice(0).forEach((s) => s.stop()));

const hooksToml = (url: string, extra = "") => `
[[hooks]]
name = "app"
url = "${url}"
secret = "${WHSEC}"
${extra}
`;

test("a signed POST arrives at the hook as a verified event; duplicates do not", async () => {
  const sink = new Sink().start();
  sinks.push(sink);
  const daemon = await startDaemon(writeConfig(tempDir(), { toml: hooksToml(sink.url) }));
  try {
    const body = textMessage("wamid.E2E", "Olá 😀");
    const responses = await Promise.all(Array.from({ length: 5 }, () => signedPost(`${daemon.url}/webhook`, body)));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    await waitFor(() => sink.received.length >= 1);
    await Bun.sleep(300);
    expect(sink.received).toHaveLength(1);
    const event = new Webhook(WHSEC).verify(sink.received[0]!.body, sink.received[0]!.headers) as { type: string; data: { text: { body: string } } };
    expect(event.type).toBe("message.received");
    expect(event.data.text.body).toBe("Olá 😀");
  } finally {
    expect(await daemon.stop()).toBe(0);
  }
}, 30_000);

test("kill -9 while events flow → after restart every acknowledged POST is delivered at least once, duplicates share a webhook-id", async () => {
  const sink = new Sink().start();
  sinks.push(sink);
  const dir = tempDir();
  const config = writeConfig(dir, { toml: hooksToml(sink.url) });
  const daemon = await startDaemon(config);
  const acked = new Set<string>();
  const load = burst(`${daemon.url}/webhook`, 16, (n) => textMessage(`wamid.K${n}`), (_res, body) => {
    acked.add((JSON.parse(body) as { entry: { changes: { value: { messages: { id: string }[] } }[] }[] }).entry[0]!.changes[0]!.value.messages[0]!.id);
  });
  await Bun.sleep(700);
  daemon.proc.kill("SIGKILL");
  await load.stop();
  await daemon.proc.exited;
  expect(acked.size).toBeGreaterThan(50);

  const again = await startDaemon(config);
  try {
    const delivered = () => new Set(sink.received.map((r) => (JSON.parse(r.body) as { data: { wamid: string } }).data.wamid));
    const allDelivered = () => {
      const seen = delivered();
      return [...acked].every((w) => seen.has(w));
    };
    await waitFor(allDelivered, 30_000).catch((err) => {
      const seen = delivered();
      const missing = [...acked].filter((w) => !seen.has(w));
      const db = new Database(join(dir, "data/wa.db"), { readonly: true });
      const states = db.query("SELECT state, count(*) n FROM inbox GROUP BY state").all();
      const deliveries = db.query("SELECT state, count(*) n, max(attempts) a, max(last_error) e FROM deliveries GROUP BY state").all();
      db.close();
      throw new Error(`${missing.length} of ${acked.size} acknowledged not delivered (e.g. ${missing.slice(0, 3)}); inbox ${JSON.stringify(states)}; deliveries ${JSON.stringify(deliveries)}; ${err}`);
    });
    // Rows stored but not acknowledged before the kill become events too; let their deliveries finish.
    const db = new Database(join(dir, "data/wa.db"), { readonly: true });
    const undelivered = () => (db.query("SELECT count(*) n FROM deliveries WHERE state <> 'done'").get() as { n: number }).n;
    await waitFor(() => undelivered() === 0 && (db.query("SELECT count(*) n FROM inbox WHERE state <> 'done'").get() as { n: number }).n === 0);
    // Any wamid delivered more than once carries the same webhook-id every time.
    const ids = new Map<string, Set<string>>();
    for (const r of sink.received) {
      const wamid = (JSON.parse(r.body) as { data: { wamid: string } }).data.wamid;
      ids.set(wamid, (ids.get(wamid) ?? new Set()).add(r.headers["webhook-id"]!));
    }
    expect([...ids.values()].every((s) => s.size === 1)).toBe(true);
    // One event per wamid: the kill doubled nothing.
    expect((db.query("SELECT count(*) n FROM events").get() as { n: number }).n).toBe(ids.size);
    db.close();
  } finally {
    expect(await again.stop()).toBe(0);
  }
}, 60_000);

test("wa-webhookd replay re-delivers to the running daemon's hook with the same webhook-id", async () => {
  const sink = new Sink().start();
  sinks.push(sink);
  const dir = tempDir();
  const config = writeConfig(dir, { toml: hooksToml(sink.url) });
  const daemon = await startDaemon(config);
  try {
    expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.REPLAY"))).status).toBe(200);
    await waitFor(() => sink.received.length === 1);
    const replay = Bun.spawnSync([BINARY, "replay", "--config", config, "--type", "message.received", "--json"]);
    expect(replay.exitCode).toBe(0);
    expect(JSON.parse(replay.stdout.toString())).toEqual({ events: 1, queued: { app: 1 } });
    await waitFor(() => sink.received.length === 2);
    expect(sink.received[1]!.headers["webhook-id"]).toBe(sink.received[0]!.headers["webhook-id"]);
    expect(() => new Webhook(WHSEC).verify(sink.received[1]!.body, sink.received[1]!.headers)).not.toThrow();
    const unknownHook = Bun.spawnSync([BINARY, "replay", "--config", config, "--type", "message.received", "--hook", "nope"]);
    expect(unknownHook.exitCode).toBe(2);
    expect(unknownHook.stderr.toString()).toContain('--hook: no hook named "nope" in the config (hooks: app)');
  } finally {
    expect(await daemon.stop()).toBe(0);
  }
}, 30_000);
