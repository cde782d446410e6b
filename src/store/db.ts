/**
 * Opens a SQLite connection with the pragmas every connection needs, in the order
 * that matters: busy_timeout first (so the WAL switch itself can wait for a lock),
 * then WAL, its size limit, secure_delete, synchronous, foreign keys.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { JOURNAL_SIZE_LIMIT_BYTES } from "../config/defaults";
import { toStorageError } from "./errors";

export type SynchronousMode = "full" | "normal";

export interface OpenOptions {
  synchronous: SynchronousMode;
  busyTimeoutMs: number;
  /**
   * false on the request-path connection: SQLite's automatic checkpoint would run
   * inside a commit and stall every request behind it; store/checkpointer.ts does it instead.
   */
  autoCheckpoint: boolean;
  readonly?: boolean;
  /** false: the file must already exist (operator commands never create a database). */
  create?: boolean;
  /** Page cache in KiB (SQLite's default is 2 MiB); the writer's is larger, bounded. */
  cacheKiB?: number;
}

export interface Pragmas {
  journal_mode: string;
  synchronous: SynchronousMode;
}

export function openDatabase(path: string, options: OpenOptions): Database {
  try {
    const create = !options.readonly && options.create !== false;
    if (create) mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, options.readonly ? { readonly: true } : { create, readwrite: true });
    setBusyTimeout(db, options.busyTimeoutMs);
    if (!options.readonly) {
      const mode = db.query<{ journal_mode: string }, []>("PRAGMA journal_mode = WAL").get()?.journal_mode;
      if (mode !== "wal") throw new Error(`could not switch ${path} to WAL mode (got ${mode})`);
      db.run(`PRAGMA journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
      if (!options.autoCheckpoint) db.run("PRAGMA wal_autocheckpoint = 0");
      // Deleted content is overwritten with zeros where that costs no extra write: an erased
      // person's bytes do not linger in the pages SQLite reorganizes (only a full VACUUM would clear them).
      db.run("PRAGMA secure_delete = FAST");
    }
    db.run(`PRAGMA synchronous = ${options.synchronous === "full" ? "FULL" : "NORMAL"}`);
    db.run("PRAGMA foreign_keys = ON");
    // Savepoints and multi-row statements journal the pages they change for a rollback;
    // in a temporary file that was a write() per page (half of processing's time, measured).
    db.run("PRAGMA temp_store = MEMORY");
    if (options.cacheKiB) db.run(`PRAGMA cache_size = -${Math.trunc(options.cacheKiB)}`);
    return db;
  } catch (err) {
    throw toStorageError(err);
  }
}

/** How long a statement waits for a lock held elsewhere before it fails with SQLITE_BUSY. */
export function setBusyTimeout(db: Database, ms: number): void {
  db.run(`PRAGMA busy_timeout = ${Math.trunc(ms)}`);
}

/** Folds the WAL into the main file and empties it: after it the database file alone holds everything. */
export function foldWal(db: Database): void {
  db.run("PRAGMA wal_checkpoint(TRUNCATE)");
}

/**
 * Rewrites the file without its free pages, with incremental vacuum on from then on (the
 * retention job gives space back page by page), and checks it. SQLite's integrity_check
 * answer: "ok", or what is wrong.
 */
export function vacuumDatabase(db: Database): string {
  db.run("PRAGMA auto_vacuum = INCREMENTAL");
  db.run("VACUUM");
  foldWal(db);
  return db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get()!.integrity_check;
}

export function readPragmas(db: Database): Pragmas {
  const journal = db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode ?? "unknown";
  const sync = db.query<{ synchronous: number }, []>("PRAGMA synchronous").get()?.synchronous;
  return { journal_mode: journal, synchronous: sync === 2 ? "full" : "normal" };
}
