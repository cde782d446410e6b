/**
 * Case 6: 1,000 slow connections at once: half send their headers a byte at a time,
 * half send headers and stall mid-body. Meanwhile ordinary webhooks are still answered
 * 200 and stored; the stalled connections are closed by the daemon's timeouts
 * (server.body_timeout for a body, with a 408; Bun's own ~10 s for headers that never
 * finish); memory stays bounded. On PostgreSQL
 * (WA_TEST_ENGINE=postgres) the same against an instance on a fresh database.
 */
import { beforeAll, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { requireBinary, startDaemon, stopAfterEach, waitFor, rssMiB } from "../support/daemon";
import { cleanUpAfterAll, daemonConfigs } from "../support/engine";
import { signedPost, textMessage } from "../support/webhooks";
import { FULL, report, size } from "./size";

beforeAll(requireBinary);
cleanUpAfterAll(); // PostgreSQL: the databases of this file dropped after it
const { daemons } = stopAfterEach();

const CONNECTIONS = size(1_000, 1_000);

test(`${CONNECTIONS} slow connections: others still answered, the slow ones closed by the timeouts, memory bounded`, async () => {
  const { configs, store } = await daemonConfigs({ server: 'idle_timeout = "2s"\nbody_timeout = "4s"' });
  await store.close(); // nothing read: the answers and the connections are the case
  const daemon = await startDaemon(configs[0]!);
  daemons.push(daemon);
  const rssBefore = rssMiB(daemon.proc.pid);
  const head = "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2000\r\nX-Hub-Signature-256: sha256=" + "0".repeat(64) + "\r\n\r\n";
  const closed = { dripping: 0, stalled: 0 };
  const timers: ReturnType<typeof setInterval>[] = [];
  const sockets: Socket[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const dripping = i % 2 === 0;
    const socket = connect(daemon.port, "127.0.0.1", () => {
      if (dripping) {
        let at = 0;
        // One byte every 200 ms: headers that would take minutes to arrive.
        timers.push(setInterval(() => at < head.length && !socket.destroyed && socket.write(head[at++]!), 200));
      } else socket.write(head + "{".repeat(500)); // a quarter of the body, then nothing
    });
    socket.on("error", () => {});
    // Read what the daemon answers (a stalled body gets its 408 before the close), as any client does.
    socket.resume();
    socket.on("close", () => closed[dripping ? "dripping" : "stalled"]++);
    sockets.push(socket);
  }
  try {
    await Bun.sleep(1_000);
    // Ordinary webhooks still go through, promptly.
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      expect((await signedPost(`${daemon.url}/webhook`, textMessage(`wamid.NORMAL${i}`))).status).toBe(200);
      latencies.push(performance.now() - t);
    }
    const rssUnder = rssMiB(daemon.proc.pid);
    // The stalled bodies go at server.body_timeout; the dripping headers at Bun's own header timeout.
    await waitFor(() => closed.stalled === CONNECTIONS / 2, 15_000);
    // Bun's own header timeout takes ~10 s; at CI size test/e2e/hardening.test.ts checks it instead.
    if (FULL) await waitFor(() => closed.dripping === CONNECTIONS / 2, 30_000);
    expect(rssUnder - rssBefore).toBeLessThan(150);
    expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);
    report("slow clients", {
      connections: CONNECTIONS,
      normal_posts: latencies.length,
      normal_p_max_ms: Math.round(Math.max(...latencies)),
      rss_mib: { before: Math.round(rssBefore), under_load: Math.round(rssUnder) },
      closed_by_daemon: closed,
    });
  } finally {
    timers.forEach(clearInterval);
    sockets.forEach((s) => s.destroy());
  }
}, 90_000);
