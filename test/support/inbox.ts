/** Webhooks stored in the inbox directly, as the writer thread indexes the log's frames: the next ids, in one commit. */
import type { Database } from "bun:sqlite";
import { sqliteInbox } from "../../src/store/inbox-store";
import type { InboxRecord } from "../../src/store/types";

export function storeWebhooks(db: Database, records: readonly InboxRecord[]): number[] {
  const inbox = sqliteInbox(db);
  const first = inbox.indexedThrough() + 1;
  const frames = records.map((r, i) => ({ ...r, id: first + i }));
  inbox.index(frames);
  return frames.map((f) => f.id);
}
