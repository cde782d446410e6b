/**
 * Case 2: SIGTERM under load with a slow hook: the daemon exits 0 within
 * server.shutdown_timeout, leaves nothing running (the port is free), and after a
 * restart every acknowledged webhook's events reach the hook.
 */
import { Database } from "bun:sqlite";
import { beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { requireBinary, startDaemon, stopAfterEach, tempDir, waitFor, writeConfig } from "../support/daemon";
import { WHSEC } from "../support/pipeline";
import { Sink } from "../support/sink";
import { burst, textMessage } from "../support/webhooks";
import { report, size } from "./size";

beforeAll(requireBinary);
const { daemons, sinks } = stopAfterEach();

test("SIGTERM under load with a slow hook: exit 0 within shutdown_timeout, port free, everything delivered after restart", async () => {
  const sink = new Sink().start();
  sinks.push(sink);
  sink.respond = async () => (await Bun.sleep(1_500), new Response("ok")); // slow
  const dir = tempDir();
  const dbPath = join(dir, "data/wa.db");
  const config = writeConfig(dir, { storagePath: dbPath, toml: `[[hooks]]\nname = "app"\nurl = "${sink.url}"\nsecret = "${WHSEC}"\nconcurrency = 4\n` });
  const daemon = await startDaemon(config);
  let acked = 0;
  const load = burst(`${daemon.url}/webhook`, 20, (n) => textMessage(`wamid.TERM${n}`), () => void acked++);
  await Bun.sleep(size(1_000, 5_000));
  const t = performance.now();
  daemon.proc.kill("SIGTERM");
  const code = await daemon.proc.exited;
  const exitMs = performance.now() - t;
  await load.stop();
  expect(code).toBe(0);
  expect(exitMs).toBeLessThan(5_000); // shutdown_timeout in writeConfig
  const portFree = await fetch(`${daemon.url}/healthz`).then(() => false, () => true);
  expect(portFree).toBe(true);

  sink.respond = () => new Response("ok");
  const again = await startDaemon(config);
  daemons.push(again);
  const db = new Database(dbPath, { readonly: true });
  const n = (sql: string) => db.query<{ n: number }, []>(sql).get()!.n;
  await waitFor(() => n("SELECT count(*) n FROM inbox WHERE state <> 'done'") === 0 && n("SELECT count(*) n FROM deliveries WHERE state <> 'done'") === 0, 60_000);
  const events = db.query<{ id: string }, []>("SELECT id FROM events").all().map((e) => e.id);
  const stored = n("SELECT count(*) n FROM inbox");
  db.close();
  const delivered = new Set(sink.received.map((r) => r.headers["webhook-id"]));
  expect(stored).toBeGreaterThanOrEqual(acked);
  expect(events.length).toBe(stored);
  expect(events.filter((id) => !delivered.has(id))).toEqual([]);
  report("SIGTERM under load", { acknowledged: acked, exit_ms: Math.round(exitMs), events: events.length, delivered: delivered.size, hook_requests: sink.received.length });
}, 90_000);
