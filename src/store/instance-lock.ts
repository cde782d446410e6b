/**
 * One daemon per database. Two daemons on one file would both commit (SQLite allows
 * it), each believing it owns every lease, and a misconfigured second instance would
 * go unnoticed. The lock is an exclusive SQLite lock on a small file beside the
 * database, held for the life of the process: the kernel drops it when the process
 * dies, so a crash never leaves a stale lock behind. Operator commands do not take it.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

export class InstanceLockedError extends Error {
  override name = "InstanceLockedError";
}

export interface InstanceLock {
  readonly path: string;
  release(): void;
}

export function acquireInstanceLock(databasePath: string): InstanceLock {
  const path = `${databasePath}.lock`;
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { create: true, readwrite: true });
  try {
    db.run("PRAGMA busy_timeout = 0");
    db.run("BEGIN EXCLUSIVE");
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code?.startsWith("SQLITE_BUSY")) {
      throw new InstanceLockedError(`another wa-webhookd is already running on ${databasePath} (it holds ${path})`);
    }
    throw err;
  }
  return {
    path,
    release: () => {
      db.run("ROLLBACK");
      db.close();
    },
  };
}
