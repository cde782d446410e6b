import type { Database } from "bun:sqlite";
import { toStorageError } from "./errors";
import type { InboxRecord, InboxStore } from "./types";

export function sqliteInboxStore(db: Database): InboxStore {
  const insert = db.prepare<{ id: number }, [Uint8Array, string, string | null, string | null, string | null, number, number]>(
    `INSERT INTO inbox (body, signature, user_agent, remote_addr, forwarded_for, received_at, parseable)
     VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
  );
  const insertAll = db.transaction((records: readonly InboxRecord[]) =>
    records.map(
      (r) =>
        insert.get(r.body, r.signature, r.userAgent, r.remoteAddr, r.forwardedFor, r.receivedAt, r.parseable ? 1 : 0)!.id,
    ),
  );
  return {
    appendBatch(records) {
      try {
        return insertAll.immediate(records);
      } catch (err) {
        throw toStorageError(err);
      }
    },
  };
}
