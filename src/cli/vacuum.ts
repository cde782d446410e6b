/**
 * `wa-webhookd vacuum --config F`: rewrites the database file compactly and switches
 * it to incremental vacuum, so the `retention` job shrinks it from then on. Files
 * created by this release already are; older ones need this once. The daemon must be
 * stopped (the instance lock says so): VACUUM holds the write lock for its whole run.
 */
import { statSync } from "node:fs";
import type { OperatorConfig } from "../config/schema";
import { vacuumDatabase } from "../store/db";
import { acquireInstanceLock, InstanceLockedError } from "../store/instance-lock";
import { openExisting, OperatorError } from "./operator";

export function runVacuum(config: OperatorConfig, json: boolean): number {
  const path = config.storage.path;
  let lock;
  try {
    lock = acquireInstanceLock(path);
  } catch (err) {
    if (err instanceof InstanceLockedError) throw new OperatorError(`vacuum: the daemon is running on ${path}; stop it first (VACUUM would block it for the whole run)`);
    throw err;
  }
  try {
    const db = openExisting(path, config.storage.synchronous);
    try {
      const before = statSync(path).size;
      const check = vacuumDatabase(db);
      const after = statSync(path).size;
      if (check !== "ok") throw new OperatorError(`vacuum: integrity_check says: ${check}`);
      process.stdout.write((json ? JSON.stringify({ before, after }) : `vacuum: ${path} ${mib(before)} → ${mib(after)}; incremental vacuum on (the retention job gives space back from now on)`) + "\n");
      return 0;
    } finally {
      db.close();
    }
  } finally {
    lock.release();
  }
}

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
