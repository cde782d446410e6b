/**
 * Case 2: SIGTERM under load with a slow hook: the daemon exits 0 within
 * server.shutdown_timeout, leaves nothing running (the port is free), and after a
 * restart every acknowledged webhook's events reach the hook. The same on PostgreSQL
 * (WA_TEST_ENGINE=postgres: one instance on a fresh database, restarted under its name).
 */
import { beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { requireBinary, startDaemon, stopAfterEach, tempDir, waitFor } from "../support/daemon";
import { cleanUpAfterAll, daemonConfigs } from "../support/engine";
import { WHSEC } from "../support/pipeline";
import { Sink } from "../support/sink";
import { burst, textMessage } from "../support/webhooks";
import { report, size } from "./size";

beforeAll(requireBinary);
cleanUpAfterAll(); // PostgreSQL: the databases of this file dropped after it
const { daemons, sinks } = stopAfterEach();

test("SIGTERM under load with a slow hook: exit 0 within shutdown_timeout, port free, everything delivered after restart", async () => {
  const sink = new Sink().start();
  sinks.push(sink);
  sink.respond = async () => (await Bun.sleep(1_500), new Response("ok")); // slow
  const dir = tempDir();
  const dbPath = join(dir, "data/wa.db");
  const { configs: [config], store } = await daemonConfigs({ storagePath: dbPath, toml: `[[hooks]]\nname = "app"\nurl = "${sink.url}"\nsecret = "${WHSEC}"\nconcurrency = 4\n` }, { dir });
  const daemon = await startDaemon(config!);
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
  const again = await startDaemon(config!);
  daemons.push(again);
  const n = (sql: string) => store.count(sql);
  await waitFor(async () => (await n("SELECT count(*) n FROM inbox WHERE state <> 'done'")) === 0 && (await n("SELECT count(*) n FROM deliveries WHERE state <> 'done'")) === 0, 60_000);
  const events = (await store.all<{ id: string }>("SELECT id FROM events")).map((e) => e.id);
  const stored = await n("SELECT count(*) n FROM inbox");
  await store.close();
  const delivered = new Set(sink.received.map((r) => r.headers["webhook-id"]));
  expect(stored).toBeGreaterThanOrEqual(acked);
  expect(events.length).toBe(stored);
  expect(events.filter((id) => !delivered.has(id))).toEqual([]);
  report("SIGTERM under load", { acknowledged: acked, exit_ms: Math.round(exitMs), events: events.length, delivered: delivered.size, hook_requests: sink.received.length });
}, 90_000);
