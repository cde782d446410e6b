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
}

export interface InboxStore {
  /**
   * Stores every record in one durable transaction and resolves with their ids in
   * order, only after the commit. Rejects with StorageError; then none is stored.
   */
  appendBatch(records: readonly InboxRecord[]): Promise<number[]>;
}

export type Readiness = { ready: true } | { ready: false; reason: string };

export interface HealthStore {
  /** Proves the database is migrated and accepts a durable write right now. */
  probe(): Promise<Readiness>;
}
