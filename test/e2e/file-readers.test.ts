/**
 * Another process reading the database file (a backup, `sqlite3 db .dump`, a script)
 * must never make the daemon's writer fail. It did: once the WAL had grown past the
 * size where the checkpoint thread restarts it, a RESTART checkpoint waited for that
 * reader while holding the write lock, longer than the writer thread's 50 ms, and a
 * worker pass failed with "database is locked" (issue 18, item 17).
 */
import { beforeAll, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { requireBinary, startDaemon, stopAfterEach, tempDir, waitFor, writeConfig } from "../support/daemon";
import { signedPost, textMessage } from "../support/webhooks";

beforeAll(requireBinary);
const { daemons } = stopAfterEach();

/** Another process holding a read transaction on the file for `ms`, as a long `.dump` does. */
function readFor(dbPath: string, ms: number) {
  const script = `const { Database } = require("bun:sqlite");
const db = new Database(${JSON.stringify(dbPath)}, { readonly: true });
db.run("BEGIN");
db.query("SELECT count(*) FROM inbox_bodies").get();
await Bun.sleep(${ms});
db.run("COMMIT");`;
  return Bun.spawn([process.execPath, "-e", script], { stdout: "ignore", stderr: "inherit" });
}

test("a reader holding the file while the WAL is large never makes a worker pass fail; the WAL still restarts", async () => {
  const dir = tempDir();
  const dbPath = join(dir, "data/wa.db");
  const daemon = await startDaemon(writeConfig(dir, { storagePath: dbPath, maxBodyBytes: 1 << 20, logLevel: "debug" }));
  daemons.push(daemon);
  // A WAL past the checkpoint thread's 16 MiB, so that every second it tries a RESTART.
  for (let i = 0; i < 24; i++) expect((await signedPost(`${daemon.url}/webhook`, textMessage(`wamid.BIG${i}`, "x".repeat(900_000)))).status).toBe(200);
  await waitFor(() => statSync(`${dbPath}-wal`).size > 16 * 1024 * 1024);
  await Bun.sleep(2_000);

  for (let round = 0; round < 3; round++) {
    // A write, then a reader whose snapshot is on the WAL, then a quiet daemon: the next tick's RESTART meets the reader.
    await signedPost(`${daemon.url}/webhook`, textMessage(`wamid.R${round}`));
    await Bun.sleep(30);
    const reader = readFor(dbPath, 4_000);
    for (let i = 0; i < 8; i++) {
      await Bun.sleep(500);
      expect((await signedPost(`${daemon.url}/webhook`, textMessage(`wamid.R${round}.${i}`))).status).toBe(200);
    }
    expect(await reader.exited).toBe(0);
  }
  const failures = daemon.lines.filter((l) => l.includes('"level":"error"') || l.includes("database is locked"));
  expect(failures).toEqual([]);
  // Once the reader is gone the WAL restarts again: it does not grow without end.
  const restarts = () => daemon.lines.filter((l) => l.includes('"restarted":true')).length;
  const before = restarts();
  await signedPost(`${daemon.url}/webhook`, textMessage("wamid.AFTER"));
  await waitFor(() => restarts() > before, 5_000);
}, 60_000);
