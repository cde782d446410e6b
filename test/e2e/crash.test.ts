/** kill -9 in the middle of a burst: every request that got a 200 survives the restart. */
import { beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { readInbox, requireBinary, startDaemon, tempDir, writeConfig } from "../support/daemon";
import { signedPost, textMessage } from "../support/webhooks";

beforeAll(requireBinary);

test("kill -9 during a burst loses no acknowledged webhook", async () => {
  const dir = tempDir();
  const config = writeConfig(dir);
  const daemon = await startDaemon(config);
  const acked = new Map<number, string>(); // inbox id → body
  let n = 0;
  let killed = false;
  const sender = async () => {
    while (!killed) {
      const body = textMessage(`wamid.crash.${n++}`);
      try {
        const res = await signedPost(`${daemon.url}/webhook`, body);
        if (res.status === 200) acked.set(((await res.json()) as { id: number }).id, body);
      } catch {
        // connection reset by the kill: not acknowledged, Meta would retry
      }
    }
  };
  const senders = Array.from({ length: 32 }, sender);
  await Bun.sleep(400);
  daemon.proc.kill("SIGKILL");
  killed = true;
  await Promise.all(senders);
  await daemon.proc.exited;
  expect(acked.size).toBeGreaterThan(100);

  // Restart on the same database: recovery from the WAL, then every acked row is there, byte-exact.
  const again = await startDaemon(config);
  const rows = new Map(readInbox(join(dir, "data/wa.db")).map((r) => [r.id, new TextDecoder().decode(r.body)]));
  const missing = [...acked].filter(([id, body]) => rows.get(id) !== body);
  expect(missing).toEqual([]);
  expect((await signedPost(`${again.url}/webhook`, textMessage("wamid.after"))).status).toBe(200);
  expect(await again.stop()).toBe(0);
}, 30_000);
