/**
 * `wa-webhookd backup --config F OUT.db`: a consistent copy of the live database
 * (VACUUM INTO reads one snapshot, so the daemon keeps writing meanwhile), then
 * checked with integrity_check. The copy is compact and needs no WAL beside it, and
 * readable by its owner only (0600, like the database): it holds personal data. On
 * PostgreSQL it says how to back up with pg_dump instead, and fails (cli/pg-dump.ts).
 */
import { rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Database } from "bun:sqlite";
import type { OperatorConfig } from "../config/schema";
import { backupStore } from "../store/backup-store";
import { openExisting, OperatorError } from "./operator";
import { pgDumpAdvice } from "./pg-dump";

export function runBackup(config: OperatorConfig, out: string, json: boolean): number {
  if (config.storage.engine === "postgres") throw new OperatorError(pgDumpAdvice(config.storage.url!, out));
  const target = resolve(out);
  const db = openExisting(config.storage.path, config.storage.synchronous);
  const started = performance.now();
  try {
    // VACUUM INTO fills an empty file as it finds it: created here first, never over another, with the mode a copy needs.
    createEmpty(target);
    try {
      backupStore(db).copyTo(target);
    } catch (err) {
      rmSync(target, { force: true });
      throw new OperatorError(`backup: cannot write ${target}: ${(err as Error).message}`);
    }
  } finally {
    db.close();
  }
  const copy = new Database(target, { readonly: true });
  let check: string;
  try {
    check = backupStore(copy).integrity();
  } finally {
    copy.close();
  }
  if (check !== "ok") throw new OperatorError(`backup: ${target} fails integrity_check: ${check}`);
  const result = { path: target, bytes: statSync(target).size, ms: Math.round(performance.now() - started), integrity_check: check };
  process.stdout.write((json ? JSON.stringify(result) : `backup: ${target} (${(result.bytes / 1048576).toFixed(1)} MiB, ${result.ms} ms), integrity_check ok`) + "\n");
  return 0;
}

function createEmpty(target: string) {
  try {
    writeFileSync(target, "", { mode: 0o600, flag: "wx" });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new OperatorError(`backup: ${target} exists; give a new file name`);
    if (code === "ENOENT") throw new OperatorError(`backup: cannot write ${target}: its directory ${dirname(resolve(target))} does not exist`);
    throw new OperatorError(`backup: cannot write ${target}: ${code ?? (err as Error).message}`);
  }
}
