/**
 * Storage trouble must answer 503 (Meta retries), never 200 and never 4xx, and the
 * daemon must recover by itself once storage does.
 */
import { Database } from "bun:sqlite";
import { beforeAll, expect, test } from "bun:test";
import { closeSync, copyFileSync, existsSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { BINARY, readInbox, requireBinary, startDaemon, tempDir, waitFor, writeConfig } from "../support/daemon";
import { signedPost, textMessage } from "../support/webhooks";

beforeAll(requireBinary);

/** A private tmpfs needs a user + mount namespace (no root, nothing left behind). */
function namespacesAvailable(): string | null {
  const probe = Bun.spawnSync(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"]);
  return probe.exitCode === 0 ? null : `unshare/tmpfs not permitted here: ${probe.stderr.toString().trim() || "exit " + probe.exitCode}`;
}

/** Writes zeros until the filesystem says ENOSPC. */
function fill(path: string) {
  const fd = openSync(path, "w");
  const chunk = new Uint8Array(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  } finally {
    closeSync(fd);
  }
}

const skipReason = namespacesAvailable();
if (skipReason) console.log(`skipping disk-full test: ${skipReason}`);

test.skipIf(skipReason !== null)("a full disk → 503 with Retry-After, never 200; recovers when space returns", async () => {
  const dir = tempDir();
  const data = join(dir, "data");
  const config = writeConfig(dir, { storagePath: join(data, "wa.db") });
  await Bun.$`mkdir -p ${data}`;
  const daemon = await startDaemon(config, [
    "unshare", "--user", "--map-root-user", "--mount", "--",
    "sh", "-c", 'mount -t tmpfs -o size=1m tmpfs "$1" && exec "$2" --config "$3"', "sh", data, BINARY, config,
  ]);
  // The tmpfs is only mounted inside the daemon's namespace; reach it through /proc.
  const inside = `/proc/${daemon.proc.pid}/root${data}`;
  try {
    expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.before"))).status).toBe(200);
    fill(join(inside, "filler"));

    const statuses: number[] = [];
    for (let i = 0; i < 200 && !statuses.includes(503); i++) {
      const res = await signedPost(`${daemon.url}/webhook`, textMessage(`wamid.full.${i}`, "x".repeat(3000)));
      statuses.push(res.status);
      if (res.status === 503) {
        expect(res.headers.get("retry-after")).toBe("5");
        expect(await res.json()).toEqual({ error: "storage_unavailable", reason: "disk full" });
      }
    }
    expect(statuses).toContain(503);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    const acceptedWhileFull = statuses.filter((s) => s === 200).length;
    // Not ready by the log's own account: its probe rewrites one byte of a block it already has,
    // which a full disk still takes; the append that met the full disk is what counts.
    const notReady = await fetch(`${daemon.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { reason: string }).reason).toStartWith("inbox log full");
    expect(daemon.lines.some((l) => l.includes('"status":503') && l.includes("disk full"))).toBe(true);

    rmSync(join(inside, "filler"));
    // Ready again once there is room, before any webhook comes (a load balancer probing /readyz sends none).
    await waitFor(async () => (await fetch(`${daemon.url}/readyz`)).status === 200, 10_000);
    const after = await signedPost(`${daemon.url}/webhook`, textMessage("wamid.after"));
    expect(after.status).toBe(200);
    expect((await fetch(`${daemon.url}/readyz`)).status).toBe(200);

    // Every 200 is in the database once indexed: before, any accepted while there was room, after.
    // (SQLite resolves /proc/PID/root back to the host path, so read a copy.)
    const stored = () => {
      const copy = tempDir();
      for (const f of ["wa.db", "wa.db-wal"]) if (existsSync(join(inside, f))) copyFileSync(join(inside, f), join(copy, f));
      return readInbox(join(copy, "wa.db")).map((r) => JSON.parse(new TextDecoder().decode(r.body)).entry[0].changes[0].value.messages[0].id);
    };
    await waitFor(() => stored().length === acceptedWhileFull + 2);
    const bodies = stored();
    expect(bodies[0]).toBe("wamid.before");
    expect(bodies.at(-1)).toBe("wamid.after");
  } finally {
    await daemon.stop("SIGKILL");
  }
});

test("SQLite's write lock held by another process does not delay acknowledgements: the inbox log holds them, indexed once it is released", async () => {
  const dir = tempDir();
  const daemon = await startDaemon(writeConfig(dir, { lockTimeout: "400ms" }));
  const holder = new Database(join(dir, "data/wa.db"));
  // The daemon may be mid-write when it has just started (jobs, checkpoints): wait our turn
  // for the lock instead of failing on SQLITE_BUSY.
  holder.run("PRAGMA busy_timeout = 10000");
  try {
    holder.run("BEGIN IMMEDIATE");
    const started = Date.now();
    expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.locked"))).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(350);
    await Bun.sleep(600); // past lock_timeout: still nothing lost, nothing refused
    expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.still"))).status).toBe(200);
    holder.run("ROLLBACK");
    expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.unlocked"))).status).toBe(200);
    await waitFor(() => readInbox(join(dir, "data/wa.db")).length === 3);
  } finally {
    holder.close();
    expect(await daemon.stop()).toBe(0);
  }
});

test("admin calls: storage trouble is a 503 (retry); an erasure meeting a 100k-deep item beside the person's message still erases; the thread serves on", async () => {
  const dir = tempDir();
  const daemon = await startDaemon(writeConfig(dir, { lockTimeout: "400ms", maxBodyBytes: 4 * 1024 * 1024 }));
  const admin = { authorization: "Bearer e2e-admin-token-0123456789" };
  const contact = `${daemon.url}/v1/contacts/16505551234`;
  const holder = new Database(join(dir, "data/wa.db"));
  holder.run("PRAGMA busy_timeout = 10000");
  try {
    // A message from 16505551234 beside one from someone else with a 100k-deep field: processed
    // (that item cut at 64 levels). Cutting 16505551234 out of the raw body and writing the rest
    // back would overflow the stack (it did: a 500, and nothing was erased); the body goes whole.
    const deep = '{"a":'.repeat(100_000) + "1" + "}".repeat(100_000);
    const body = textMessage("wamid.PLAIN").replace('"messages":[', `"messages":[{"from":"16505550000","id":"wamid.DEEP","timestamp":"1749416383","type":"text","nested":${deep}},`);
    expect((await signedPost(`${daemon.url}/webhook`, body)).status).toBe(200);
    await waitFor(async () => (await fetch(contact, { headers: admin })).status === 200);

    holder.run("BEGIN IMMEDIATE");
    const locked = await fetch(contact, { method: "DELETE", headers: admin });
    expect(locked.status).toBe(503);
    expect(await locked.json()).toMatchObject({ error: "storage_unavailable" });
    holder.run("ROLLBACK");

    const erased = await fetch(contact, { method: "DELETE", headers: admin });
    expect(erased.status).toBe(200);
    expect(((await erased.json()) as { erased: unknown }).erased).toMatchObject({ webhooks_unreadable: 1 });
    expect(holder.query("SELECT count(*) n FROM inbox_bodies").get()).toEqual({ n: 0 });
    expect((await fetch(contact, { headers: admin })).status).toBe(404);
    expect(daemon.lines.filter((l) => l.includes("admin call failed"))).toEqual([]);
    expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.AFTER"))).status).toBe(200);
  } finally {
    holder.close();
    expect(await daemon.stop()).toBe(0);
  }
});

test("a write lock held elsewhere while the daemon starts is waited on: it starts once the lock is released, not 'cannot start'", async () => {
  const dir = tempDir();
  const config = writeConfig(dir, {});
  expect(await (await startDaemon(config)).stop()).toBe(0); // the database exists, migrated
  const holder = new Database(join(dir, "data/wa.db"));
  try {
    holder.run("BEGIN IMMEDIATE");
    setTimeout(() => holder.run("ROLLBACK"), 500);
    const daemon = await startDaemon(config);
    expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.after_lock"))).status).toBe(200);
    expect(await daemon.stop()).toBe(0);
  } finally {
    holder.close();
  }
});

test.skipIf(skipReason !== null)("backup onto a disk that fills: fails naming the target, and leaves neither the copy nor its journal", async () => {
  const dir = tempDir();
  const config = writeConfig(dir, {});
  const daemon = await startDaemon(config);
  for (let i = 0; i < 40; i++) expect((await signedPost(`${daemon.url}/webhook`, textMessage(`wamid.BKFULL${i}`, "x".repeat(4000)))).status).toBe(200);
  expect(await daemon.stop()).toBe(0);
  const out = join(dir, "small");
  await Bun.$`mkdir -p ${out}`;
  // 64 KiB of room for a database of some hundred KiB; what is left is listed from inside the namespace.
  const run = Bun.spawnSync([
    "unshare", "--user", "--map-root-user", "--mount", "--",
    "sh", "-c", 'mount -t tmpfs -o size=64k tmpfs "$1" && "$2" backup --config "$3" "$1/copy.db"; echo "exit $?"; ls -A "$1"', "sh", out, BINARY, config,
  ]);
  expect(run.stderr.toString()).toContain(`wa-webhookd: backup: cannot write ${out}/copy.db: database or disk is full`);
  expect(run.stdout.toString().trim()).toBe("exit 1"); // and `ls -A` printed nothing
});
