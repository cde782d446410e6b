/**
 * `wa-webhookd migrate-storage --config PG.toml --from OLD.db`: moves a SQLite engine's
 * data into the empty PostgreSQL database of the config, to go from one daemon to
 * several instances. The SQLite daemon must be stopped (its instance lock says so) and
 * no PostgreSQL instance may run yet. What the SQLite daemon acknowledged but had not
 * indexed (its inbox log) is indexed first, so nothing acknowledged stays behind.
 * Interrupted, it resumes when run again with the same file; at the end every table's
 * rows are counted on both sides, and a difference fails the command.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { OperatorConfig } from "../config/schema";
import { maskUrlCredentials } from "../config/load";
import { acquireInstanceLock, InstanceLockedError } from "../store/instance-lock";
import { sqliteInbox } from "../store/inbox-store";
import { framesAfter, segmentsDir } from "../store/segment-log";
import { openPostgres } from "../store/postgres/connect";
import { copyFromSqlite } from "../store/postgres/copy-from-sqlite";
import { instancesStore } from "../store/postgres/instances";
import { migratePostgres } from "../store/postgres/migrate";
import { storageCopies } from "../store/postgres/storage-copies";
import { isStorageFailure, toStorageError } from "../store/errors";
import { openExisting, OperatorError } from "./operator";

/** An instance renewed within this is live (cli/serve-postgres.ts renews every 5 s). */
const LIVE_MS = 30_000;

export async function runMigrateStorage(config: OperatorConfig, from: string, json: boolean): Promise<number> {
  if (config.storage.engine !== "postgres") throw new OperatorError('migrate-storage copies into the PostgreSQL engine: --config must be the new instances\' config, with storage.engine = "postgres"');
  const source = resolve(from);
  if (!existsSync(source)) throw new OperatorError(`--from: no database at ${source} (the SQLite engine's file, storage.path of the old config)`);
  let lock;
  try {
    lock = acquireInstanceLock(source);
  } catch (err) {
    if (err instanceof InstanceLockedError) throw new OperatorError(`--from: the SQLite daemon is running on ${source}; stop it first (systemctl stop wa-webhookd)`);
    throw err;
  }
  const db = openExisting(source, "full");
  const sql = openPostgres({ url: config.storage.url!, pool: 2, lockTimeoutMs: 10_000, instance: "migrate-storage" });
  try {
    const indexed = indexTheLog(db, source);
    await migratePostgres(sql);
    if ((await instancesStore(sql).list(LIVE_MS)).some((i) => i.live)) {
      throw new OperatorError(`storage.url: instances are running on ${maskUrlCredentials(config.storage.url!)}; copy into it before starting them`);
    }
    const copies = storageCopies(sql);
    const refusal = await copies.begin(source, Date.now());
    if (refusal) throw new OperatorError(`storage.url: ${refusal}`);
    const copy = copyFromSqlite(db, sql);
    await copy.copy(({ table, copied }) => {
      if (!json && copied % 20_000 === 0) process.stderr.write(`migrate-storage: ${table}: ${copied} rows…\n`);
    });
    const report = await copy.report();
    const differ = report.tables.filter((t) => t.source !== t.target);
    if (differ.length === 0) await copies.finish(source, Date.now(), report);
    if (json) process.stdout.write(JSON.stringify({ source, indexed_from_log: indexed, ...report, ok: differ.length === 0 }) + "\n");
    else {
      const lines = [
        `migrate-storage: ${source} → ${maskUrlCredentials(config.storage.url!)}${indexed > 0 ? ` (${indexed} webhooks indexed from the inbox log first)` : ""}`,
        ...report.tables.map((t) => `  ${t.table.padEnd(18)} ${String(t.source).padStart(10)} → ${String(t.target).padStart(10)}${t.source === t.target ? "" : "  DIFFERS"}`),
        ...report.leftBehind.filter((t) => t.rows > 0).map((t) => `  ${t.table.padEnd(18)} ${String(t.rows).padStart(10)}   not copied: SQLite's job leases (the PostgreSQL engine keeps its own; a held stale job starts over)`),
        differ.length === 0 ? "migrate-storage: every table's rows counted on both sides: the same" : `migrate-storage: ${differ.length} table(s) differ; run it again to resume`,
      ];
      process.stdout.write(lines.join("\n") + "\n");
    }
    return differ.length === 0 ? 0 : 1;
  } catch (err) {
    if (isStorageFailure(err) && !(err instanceof OperatorError)) throw new OperatorError(`storage.url: ${toStorageError(err).message}`);
    throw err;
  } finally {
    await sql.close().catch(() => {});
    db.close();
    lock.release();
  }
}

/** What the stopped daemon acknowledged but had not indexed yet: into the file first (as its next start would). */
function indexTheLog(db: ReturnType<typeof openExisting>, source: string): number {
  const inbox = sqliteInbox(db);
  let n = 0;
  for (const frames of framesAfter(segmentsDir(source), inbox.indexedThrough())) {
    inbox.index(frames);
    n += frames.length;
  }
  if (n > 0) inbox.durableThrough();
  return n;
}
