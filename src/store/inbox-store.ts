/** The inbox's SQL, run synchronously on whichever connection owns the writes. */
import type { Database } from "bun:sqlite";
import { isJsonBytes } from "../util/json";
import { durability } from "./durability";
import { toStorageError } from "./errors";
import type { InboxRecord } from "./types";

export interface SqliteInbox {
  /** One IMMEDIATE transaction for the whole batch; throws StorageError. */
  insertBatch(records: readonly InboxRecord[]): number[];
}

export function sqliteInbox(db: Database): SqliteInbox {
  const insert = db.prepare<{ id: number }, [string, string | null, string | null, string | null, number, number]>(
    `INSERT INTO inbox (signature, user_agent, remote_addr, forwarded_for, received_at, parseable)
     VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
  );
  // The body has its own table: job-state updates rewrite the inbox row, never the body.
  const insertBody = db.prepare<unknown, [number, Uint8Array]>("INSERT INTO inbox_bodies (inbox_id, body) VALUES (?, ?)");
  const { synced } = durability(db);
  const insertAll = db.transaction((records: readonly InboxRecord[]) =>
    records.map((r) => {
      const id = insert.get(r.signature, r.userAgent, r.remoteAddr, r.forwardedFor, r.receivedAt, isJsonBytes(r.body) ? 1 : 0)!.id;
      insertBody.run(id, r.body);
      return id;
    }),
  );
  return {
    insertBatch(records) {
      try {
        const ids = insertAll.immediate(records);
        synced(); // with synchronous = "full", this commit's fsync covers every earlier one
        return ids;
      } catch (err) {
        throw toStorageError(err);
      }
    },
  };
}
