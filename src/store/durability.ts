/**
 * Which SQLite commits pay for an fsync when storage.synchronous = "full". A webhook
 * is acknowledged once the inbox log holds it durably (store/segment-log.ts); indexing
 * it, processing and claims only derive rows from what is durable there, so they
 * commit without an fsync (synchronous = NORMAL for that commit): a power cut loses at
 * most work that is done again. Before anything leaves the process on the strength of
 * such rows (a hook's POST, an SMS, an alert), those rows must be on disk: either one
 * fsync'd commit follows them (in WAL mode it makes every earlier commit durable too),
 * or `settle` fdatasyncs the WAL file on Bun's thread pool while the thread goes on
 * working. A process crash loses no commit either way; with synchronous = "normal"
 * nothing here changes anything.
 */
import type { Database } from "bun:sqlite";
import { closeSync, fdatasync as fdatasyncCallback, openSync } from "node:fs";
import { promisify } from "node:util";

const fdatasync = promisify(fdatasyncCallback);

export interface Durability {
  /** Runs `work` (one transaction) without an fsync at its commit; what it wrote is pending until synced. */
  relaxed<T>(work: () => T): T;
  /** Runs `work` (one transaction) with an fsync only if a relaxed commit is not yet on disk. */
  beforeSending<T>(work: () => T): T;
  /** Whether a relaxed commit is not yet known to be on disk. */
  owed(): boolean;
  /**
   * Runs `work` (one transaction) without an fsync, and without marking it pending: for
   * commits whose loss to a power cut only repeats what they did (a delivery sent again
   * under the same webhook-id), which nothing has to wait for.
   */
  replayable<T>(work: () => T): T;
  /**
   * With relaxed commits pending: reads `mark()` (say, the newest row id) at once and
   * resolves with it when every commit made so far is on disk, by an fdatasync of the WAL
   * on Bun's thread pool (the thread goes on committing meanwhile; those later commits
   * stay pending). Null at once when nothing is pending.
   */
  settle<T>(mark: () => T): Promise<T | null>;
}

const perDatabase = new WeakMap<Database, Durability>();

/** One per connection: every store that commits on it must see the same state. */
export function durability(db: Database): Durability {
  let d = perDatabase.get(db);
  if (!d) {
    d = make(db);
    perDatabase.set(db, d);
  }
  return d;
}

function make(db: Database): Durability {
  const full = db.query<{ synchronous: number }, []>("PRAGMA synchronous").get()?.synchronous === 2;
  const wal = walFile(`${db.filename}-wal`);
  // Relaxed commits made, and how many of them are known to be on disk: counted, not
  // flagged, so that a commit made while a sync is in flight is never taken for synced.
  let made = 0;
  let onDisk = 0;
  const uncounted = <T>(work: () => T): T => {
    if (!full) return work();
    // Compiled on every call on purpose: SQLite applies PRAGMA synchronous while it
    // prepares the statement, so a prepared one run again changes nothing (tested).
    db.run("PRAGMA synchronous = NORMAL");
    try {
      return work();
    } finally {
      db.run("PRAGMA synchronous = FULL");
    }
  };
  const relaxed = <T>(work: () => T): T => {
    try {
      return uncounted(work);
    } finally {
      if (full) made++;
    }
  };
  return {
    relaxed,
    replayable: uncounted,
    owed: () => made > onDisk,
    beforeSending(work) {
      if (made > onDisk) {
        const through = made;
        const result = work();
        onDisk = Math.max(onDisk, through);
        return result;
      }
      // Losing this commit to a power cut only sends again (same webhook-id): no fsync needed.
      return uncounted(work);
    },
    async settle(mark) {
      if (made === onDisk) return null;
      const through = made;
      const marked = mark();
      await wal.datasync();
      onDisk = Math.max(onDisk, through);
      return marked;
    },
  };
}

/**
 * An fdatasync of any descriptor of the WAL file puts its written pages on disk, SQLite's
 * own appends included. Opened per sync (a microsecond's syscall), so that no descriptor
 * outlives the connection or holds a replaced file.
 */
function walFile(path: string) {
  return {
    async datasync() {
      const fd = openSync(path, "r");
      try {
        await fdatasync(fd);
      } finally {
        closeSync(fd);
      }
    },
  };
}
