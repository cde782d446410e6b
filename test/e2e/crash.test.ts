/** kill -9 in the middle of a burst: every request that got a 200 survives the restart. */
import { beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { readInbox, requireBinary, startDaemon, tempDir, writeConfig } from "../support/daemon";
import { burst, signedPost, textMessage } from "../support/webhooks";

beforeAll(requireBinary);

test("kill -9 during a burst loses no acknowledged webhook", async () => {
  const dir = tempDir();
  const config = writeConfig(dir);
  const daemon = await startDaemon(config);
  const acked = new Map<number, string>(); // inbox id → body
  const load = burst(`${daemon.url}/webhook`, 32, (n) => textMessage(`wamid.crash.${n}`), async (res, body) => {
    acked.set(((await res.json()) as { id: number }).id, body);
  });
  await Bun.sleep(400);
  daemon.proc.kill("SIGKILL");
  await load.stop();
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
