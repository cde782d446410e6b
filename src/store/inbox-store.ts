/**
 * The inbox's SQL on the writer's connection: webhooks the segment log already holds
 * durably (store/segment-log.ts) are indexed here, with the ids the log gave them.
 */
import type { Database } from "bun:sqlite";
import type { Framed } from "./log-frame";
import { isJsonBytes } from "../util/json";
import { durability } from "./durability";
import { toStorageError } from "./errors";

export interface SqliteInbox {
  /**
   * Indexes webhooks the log holds, in one transaction without an fsync (the log is what
   * is durable). One already here is skipped, so indexing twice is harmless. Returns how
   * far the index now goes. Throws StorageError.
   */
  index(frames: readonly Framed[]): number;
  /** Every webhook up to this id is indexed (not necessarily durably yet). */
  indexedThrough(): number;
  /** Makes every index commit so far durable (one fsync if one is owed); returns how far that reaches. */
  durableThrough(): number;
  /** Takes the index past webhooks the log lost (`wa-webhookd log-gap --skip`), durably. */
  skipThrough(id: number): void;
}

export function sqliteInbox(db: Database): SqliteInbox {
  const insert = db.prepare<unknown, [number, string, string | null, string | null, string | null, number, number]>(
    `INSERT INTO inbox (id, signature, user_agent, remote_addr, forwarded_for, received_at, parseable)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
  );
  // The body has its own table: job-state updates rewrite the inbox row, never the body.
  const insertBody = db.prepare<unknown, [number, Uint8Array]>("INSERT INTO inbox_bodies (inbox_id, body) VALUES (?, ?) ON CONFLICT (inbox_id) DO NOTHING");
  const through = db.prepare<{ through: number }, []>("SELECT through FROM inbox_indexed");
  const advance = db.prepare<unknown, [number]>("UPDATE inbox_indexed SET through = max(through, ?)");
  const { relaxed, beforeSending, owed } = durability(db);
  const indexAll = db.transaction((frames: readonly Framed[]) => {
    const done = through.get()!.through;
    let last = 0;
    for (const f of frames) {
      // Only past what the index went through: a webhook retention or an erasure deleted since is never brought back.
      if (f.id <= done) continue;
      if (insert.run(f.id, f.signature, f.userAgent, f.remoteAddr, f.forwardedFor, f.receivedAt, isJsonBytes(f.body) ? 1 : 0).changes > 0) insertBody.run(f.id, f.body);
      last = f.id;
    }
    if (last > 0) advance.run(last);
    return through.get()!.through;
  });
  return {
    index(frames) {
      try {
        return relaxed(() => indexAll.immediate(frames));
      } catch (err) {
        throw toStorageError(err);
      }
    },
    indexedThrough: () => through.get()!.through,
    skipThrough(id) {
      try {
        db.transaction(() => advance.run(id)).immediate();
      } catch (err) {
        throw toStorageError(err);
      }
    },
    durableThrough() {
      try {
        // Every index commit on disk already: nothing to write (an idle daemon writes nothing each second).
        if (!owed()) return through.get()!.through;
        // A write the fsync can carry: with a relaxed commit still off disk, this one's fsync puts it there.
        return beforeSending(() => db.transaction(() => (advance.run(0), through.get()!.through)).immediate());
      } catch (err) {
        throw toStorageError(err);
      }
    },
  };
}

/**
 * How far the inbox is indexed, read before migrating, from the schema as it is: a
 * database from before the inbox log (no inbox_indexed yet) holds every webhook it took,
 * which is what its migration (0012) records.
 */
export function indexedThroughAnySchema(db: Database): number {
  const has = (table: string) => db.query("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").get(table) !== null;
  if (has("inbox_indexed")) return db.query<{ through: number }, []>("SELECT through FROM inbox_indexed").get()?.through ?? 0;
  return has("inbox") ? db.query<{ n: number }, []>("SELECT coalesce(max(id), 0) n FROM inbox").get()!.n : 0;
}
