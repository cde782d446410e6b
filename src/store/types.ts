/**
 * The narrow storage interface the HTTP and domain code see. SQLite implements it
 * today; a Postgres implementation only has to honour the same promises.
 */

/** One signed webhook POST as received, before any parsing. */
export interface InboxRecord {
  body: Uint8Array;
  signature: string;
  userAgent: string | null;
  remoteAddr: string | null;
  forwardedFor: string | null;
  receivedAt: number; // unix epoch ms
  parseable: boolean;
}

export interface InboxStore {
  /**
   * Stores every record in one durable transaction and returns their ids in order.
   * Throws StorageError; on throw, none of the records is stored.
   */
  appendBatch(records: readonly InboxRecord[]): number[];
}

export type Readiness = { ready: true } | { ready: false; reason: string };

export interface HealthStore {
  /** Proves the database is migrated and accepts a durable write right now. */
  probe(): Readiness;
}
