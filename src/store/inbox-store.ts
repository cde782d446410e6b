/** The inbox's SQL, run synchronously on whichever connection owns the writes. */
import type { Database } from "bun:sqlite";
import { isJsonBytes } from "../util/json";
import { toStorageError } from "./errors";
import type { InboxRecord } from "./types";

export interface SqliteInbox {
  /** One IMMEDIATE transaction for the whole batch; throws StorageError. */
  insertBatch(records: readonly InboxRecord[]): number[];
}

export function sqliteInbox(db: Database): SqliteInbox {
  const insert = db.prepare<{ id: number }, [Uint8Array, string, string | null, string | null, string | null, number, number]>(
    `INSERT INTO inbox (body, signature, user_agent, remote_addr, forwarded_for, received_at, parseable)
     VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
  );
  const insertAll = db.transaction((records: readonly InboxRecord[]) =>
    records.map(
      (r) =>
        insert.get(r.body, r.signature, r.userAgent, r.remoteAddr, r.forwardedFor, r.receivedAt, isJsonBytes(r.body) ? 1 : 0)!
          .id,
    ),
  );
  return {
    insertBatch(records) {
      try {
        return insertAll.immediate(records);
      } catch (err) {
        throw toStorageError(err);
      }
    },
  };
}
