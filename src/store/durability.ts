/**
 * Which SQLite commits pay for an fsync when storage.synchronous = "full". A webhook
 * is acknowledged once the inbox log holds it durably (store/segment-log.ts); indexing
 * it, processing and claims only derive rows from what is durable there, so they
 * commit without an fsync (synchronous = NORMAL for that commit): a power cut loses at
 * most work that is done again. Before anything leaves the process on the strength of
 * such rows (a hook's POST, an SMS, an alert), one fsync'd commit must follow them; in
 * WAL mode it makes every earlier commit durable too: the dispatcher pays it only when
 * a relaxed commit came since the last one. A process crash loses no commit either
 * way; with synchronous = "normal" nothing here changes anything.
 */
import type { Database } from "bun:sqlite";

export interface Durability {
  /** Runs `work` (one transaction) without an fsync at its commit. */
  relaxed<T>(work: () => T): T;
  /** Runs `work` (one transaction) with an fsync only if a relaxed commit is not yet on disk. */
  beforeSending<T>(work: () => T): T;
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
  let unsynced = false;
  const relaxed = <T>(work: () => T): T => {
    if (!full) return work();
    db.run("PRAGMA synchronous = NORMAL");
    try {
      return work();
    } finally {
      db.run("PRAGMA synchronous = FULL");
      unsynced = true;
    }
  };
  return {
    relaxed,
    beforeSending(work) {
      if (unsynced) {
        const result = work();
        unsynced = false;
        return result;
      }
      // Losing this commit to a power cut only sends again (same webhook-id): no fsync needed.
      const result = relaxed(work);
      unsynced = false;
      return result;
    },
  };
}
