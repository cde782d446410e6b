/**
 * `wa-webhookd log-gap` on the compiled binary. Webhooks the inbox log acknowledged and
 * then lost (its files changed under the daemon) stop the index there: the daemon will
 * not start past them, and says where to look. log-gap names the ids, refuses while a
 * daemon runs, and with --skip moves the index past them, after which the webhooks
 * beyond the gap are indexed and processed as usual.
 */
import { beforeAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync, readdirSync, renameSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { segmentsDir } from "../../src/store/segment-log";
import { openDatabase } from "../../src/store/db";
import { migrate } from "../../src/store/migrate";
import { MIGRATIONS } from "../../src/store/migrations";
import { writeSegment } from "../support/segments";
import type { InboxRecord } from "../../src/store/types";
import { BINARY, readInbox, requireBinary, runBinary, startDaemon, stopAfterEach, tempDir, waitFor, writeConfig } from "../support/daemon";
import { signedPost, textMessage } from "../support/webhooks";

beforeAll(requireBinary);
const { daemons } = stopAfterEach();

const record = (n: number): InboxRecord => ({
  body: new TextEncoder().encode(textMessage(`wamid.GAP${n}`)),
  signature: "sha256=" + "0".repeat(64),
  userAgent: "facebookexternalua",
  remoteAddr: "127.0.0.1",
  forwardedFor: null,
  receivedAt: Date.now(),
});

function doneIds(dbPath: string): number[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.query<{ id: number }, []>("SELECT id FROM inbox WHERE state = 'done' ORDER BY id").all().map((r) => r.id);
  } finally {
    db.close();
  }
}

/** The log as a damaged copy leaves it: webhooks 1–3 and 6–8 in their segments, 4–5 nowhere, none indexed. */
/** A config with its database at `<dir>/wa.db`. */
function daemonFiles() {
  const dir = tempDir("wa-gap-");
  const dbPath = join(dir, "wa.db");
  return { dir, dbPath, config: writeConfig(dir, { storagePath: dbPath }) };
}

/** The database the daemon makes at its first start, the daemon stopped again (its log then replaced by the test). */
async function stoppedDatabase() {
  const files = daemonFiles();
  await (await startDaemon(files.config)).stop();
  return files;
}

function damagedLog(dbPath: string) {
  rmSync(segmentsDir(dbPath), { recursive: true, force: true });
  for (const [first, ids] of [[1, [1, 2, 3]], [6, [6, 7, 8]]] as const) writeSegment(segmentsDir(dbPath), first, ids.map(record));
}

test("acknowledged webhooks the log lost: named by log-gap, skipped with --skip, and the ones after them processed", async () => {
  const { dbPath, config } = await stoppedDatabase();
  damagedLog(dbPath);

  const found = runBinary(["log-gap", "--config", config]);
  expect(found.code).toBe(1);
  expect(found.stdout).toContain("webhook ids 4–5 were acknowledged but the inbox log no longer holds them");

  // The daemon does not start past the gap, and points at the command.
  const refused = Bun.spawnSync([BINARY, "--config", config], { timeout: 15_000 });
  const said = refused.stdout.toString() + refused.stderr.toString();
  expect(refused.exitCode).not.toBe(0);
  expect(said).toContain("webhook 4 is acknowledged but not in");
  expect(said).toContain("wa-webhookd log-gap");
  expect(readInbox(dbPath).map((r) => r.id)).toEqual([]);

  const skipped = runBinary(["log-gap", "--config", config, "--skip", "--json"]);
  expect(skipped.code).toBe(0);
  expect(JSON.parse(skipped.stdout)).toEqual({ indexed_through: 5, gap: { from: 4, to: 5 }, skipped: true, indexed_before_gap: 3, missing_before_log: null, end_lost: null });
  expect(readInbox(dbPath).map((r) => r.id)).toEqual([1, 2, 3]);
  const again = runBinary(["log-gap", "--config", config]);
  expect({ code: again.code, stdout: again.stdout }).toEqual({ code: 0, stdout: "log-gap: none; the inbox log holds the webhooks after the index (indexed through 5)\n" });

  const daemon = await startDaemon(config);
  daemons.push(daemon);
  const busy = runBinary(["log-gap", "--config", config, "--skip"]);
  expect(busy.code).toBe(1);
  expect(busy.stderr).toContain("the daemon is running");
  await waitFor(() => doneIds(dbPath).length === 6);
  expect(doneIds(dbPath)).toEqual([1, 2, 3, 6, 7, 8]);
  expect((await fetch(`${daemon.url}/readyz`)).status).toBe(200);
}, 60_000);

test("a database restored from a backup older than the log: the webhooks after it are indexed, the lost ids said in the log and by log-gap", async () => {
  const { dbPath, config } = await stoppedDatabase();
  // The newer database (gone) had indexed 1–5 and the log recycled them; 6–7 were not indexed yet.
  rmSync(segmentsDir(dbPath), { recursive: true, force: true });
  writeSegment(segmentsDir(dbPath), 6, [6, 7].map(record));

  const said = runBinary(["log-gap", "--config", config, "--json"]);
  expect({ code: said.code, stderr: said.stderr }).toEqual({ code: 0, stderr: "" });
  expect(JSON.parse(said.stdout)).toEqual({ indexed_through: 0, gap: null, skipped: false, indexed_before_gap: 0, missing_before_log: { from: 1, to: 5 }, end_lost: null });
  const text = runBinary(["log-gap", "--config", config]).stdout;
  expect(text).toContain("webhook ids 1–5 are in neither the database nor the inbox log");
  expect(text).not.toContain("log-gap: none"); // it said both once

  const daemon = await startDaemon(config);
  daemons.push(daemon);
  await waitFor(() => doneIds(dbPath).length === 2);
  expect(doneIds(dbPath)).toEqual([6, 7]);
  const warning = daemon.lines.map((l) => JSON.parse(l)).find((l) => l.msg?.startsWith("acknowledged webhooks are in neither the database nor the inbox log"));
  expect(warning).toMatchObject({ level: "warn", from_id: 1, to_id: 5, webhooks: 5 });
  expect((await fetch(`${daemon.url}/readyz`)).status).toBe(200);
}, 60_000);

test("restored as docs/deploy.md says after the daemon sat idle (its log recycled down to an empty segment): it starts, says the lost ids, goes on", async () => {
  const { dir, dbPath, config } = daemonFiles();
  const first = await startDaemon(config);
  for (let i = 1; i <= 3; i++) expect((await signedPost(`${first.url}/webhook`, textMessage(`wamid.RESTORE${i}`))).status).toBe(200);
  await waitFor(() => doneIds(dbPath).length === 3);
  const backup = join(dir, "backup.db");
  expect(runBinary(["backup", "--config", config, backup]).code).toBe(0);
  for (let i = 4; i <= 5; i++) expect((await signedPost(`${first.url}/webhook`, textMessage(`wamid.RESTORE${i}`))).status).toBe(200);
  // Idle past the seal: every segment recycled, one empty segment left for what comes next.
  const segments = () => readdirSync(segmentsDir(dbPath)).filter((f) => f.endsWith(".seg"));
  await waitFor(() => segments().length === 1 && segments()[0] === "0000000000000006.seg", 30_000);
  await first.stop();
  rmSync(`${dbPath}-wal`, { force: true });
  rmSync(`${dbPath}-shm`, { force: true });
  copyFileSync(backup, dbPath);

  const daemon = await startDaemon(config);
  daemons.push(daemon);
  expect((await fetch(`${daemon.url}/readyz`)).status).toBe(200);
  const warning = daemon.lines.map((l) => JSON.parse(l)).find((l) => l.msg?.startsWith("acknowledged webhooks are in neither the database nor the inbox log"));
  expect(warning).toMatchObject({ from_id: 4, to_id: 5, webhooks: 2 });
  const next = await signedPost(`${daemon.url}/webhook`, textMessage("wamid.RESTORE6"));
  expect(next.status).toBe(200);
  expect(((await next.json()) as { id: number }).id).toBe(6);
  await waitFor(() => doneIds(dbPath).length === 4);
  expect(doneIds(dbPath)).toEqual([1, 2, 3, 6]);
}, 90_000);

/** Webhooks acknowledged while SQLite's write lock is held elsewhere stay in the log only; then the daemon is killed. */
async function ackedOnlyInLog(config: string, dbPath: string, before: number, after: number) {
  const daemon = await startDaemon(config);
  for (let i = 0; i < before; i++) expect((await signedPost(`${daemon.url}/webhook`, textMessage(`wamid.IDX${i}`))).status).toBe(200);
  await waitFor(() => readInbox(dbPath).length === before);
  const other = new Database(dbPath);
  other.run("BEGIN IMMEDIATE");
  const ids: number[] = [];
  for (let i = 0; i < after; i++) {
    const res = await signedPost(`${daemon.url}/webhook`, textMessage(`wamid.LOGONLY${i}`));
    expect(res.status).toBe(200);
    ids.push(((await res.json()) as { id: number }).id);
  }
  daemon.proc.kill("SIGKILL");
  await daemon.proc.exited;
  other.run("ROLLBACK");
  other.close();
  expect(readInbox(dbPath).length).toBe(before);
  return ids;
}

const newestSegment = (dbPath: string) => join(segmentsDir(dbPath), readdirSync(segmentsDir(dbPath)).filter((f) => f.endsWith(".seg")).sort().at(-1)!);

test("the segment acknowledged webhooks were appended to, moved away after a kill: the daemon refuses to start, log-gap names it, --skip goes on", async () => {
  const { dir, dbPath, config } = daemonFiles();
  const ids = await ackedOnlyInLog(config, dbPath, 2, 2);
  expect(ids).toEqual([3, 4]);
  renameSync(newestSegment(dbPath), join(dir, "moved-away.seg"));

  const refused = Bun.spawnSync([BINARY, "--config", config], { timeout: 15_000 });
  expect(refused.exitCode).not.toBe(0);
  expect(refused.stdout.toString() + refused.stderr.toString()).toContain("the segment webhooks were appended to, is gone");
  const found = runBinary(["log-gap", "--config", config, "--json"]);
  expect(found.code).toBe(1);
  expect(JSON.parse(found.stdout)).toMatchObject({ indexed_through: 2, gap: null, skipped: false });
  expect(JSON.parse(found.stdout).end_lost).toContain("may be lost");
  expect(runBinary(["log-gap", "--config", config, "--skip"]).code).toBe(0);

  const daemon = await startDaemon(config);
  daemons.push(daemon);
  expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.AFTER"))).status).toBe(200);
  await waitFor(() => doneIds(dbPath).length === 3);
}, 60_000);

test("the newest segment cut short below what the index holds: refused at start and named by log-gap", async () => {
  const { dbPath, config } = daemonFiles();
  await ackedOnlyInLog(config, dbPath, 6, 3);
  const segment = newestSegment(dbPath);
  truncateSync(segment, 2_000); // a frame or so of the six indexed, none of the three after
  const refused = Bun.spawnSync([BINARY, "--config", config], { timeout: 15_000 });
  expect(refused.exitCode).not.toBe(0);
  expect(refused.stdout.toString() + refused.stderr.toString()).toContain("before what the index holds (6): it was cut short under the daemon");
  const found = runBinary(["log-gap", "--config", config]);
  expect(found.code).toBe(1);
  expect(found.stdout).toContain("webhooks acknowledged after 6 may be lost");
  expect(runBinary(["log-gap", "--config", config, "--skip"]).code).toBe(0);
  const daemon = await startDaemon(config);
  daemons.push(daemon);
  expect((await fetch(`${daemon.url}/readyz`)).status).toBe(200);
}, 60_000);

test("a start the inbox log refuses leaves an older database unmigrated: the previous binary still opens it", () => {
  const { dbPath, config } = daemonFiles();
  // Schema 11 (before the inbox log), holding webhooks 1–3; beside it a log whose current segment begins at 2, empty.
  const db = openDatabase(dbPath, { synchronous: "full", busyTimeoutMs: 1000, autoCheckpoint: true });
  migrate(db, MIGRATIONS.filter((m) => m.version <= 11));
  for (const id of [1, 2, 3]) {
    db.run("INSERT INTO inbox (id, received_at, signature, parseable) VALUES (?, ?, 'sha256=00', 1)", [id, Date.now()]);
    db.run("INSERT INTO inbox_bodies (inbox_id, body) VALUES (?, ?)", [id, new TextEncoder().encode(textMessage(`wamid.OLD${id}`))]);
  }
  db.close();
  writeSegment(segmentsDir(dbPath), 2, []);
  writeFileSync(join(segmentsDir(dbPath), "current"), "2\n");
  const start = Bun.spawnSync([BINARY, "--config", config], { env: { PATH: process.env.PATH ?? "" } });
  expect(start.exitCode).toBe(1);
  expect(start.stderr.toString()).toContain("inbox log");
  const after = new Database(dbPath, { readonly: true });
  try {
    expect(after.query<{ v: number }, []>("SELECT max(version) v FROM schema_migrations").get()!.v).toBe(11);
  } finally {
    after.close();
  }
});
