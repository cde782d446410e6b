/**
 * What the `fallback` and `alerts` jobs ask of a storage engine: claim due rows with a
 * lease and a token, and record each outcome only while the token still holds the row.
 * store/send-queue.ts and store/alert-store.ts are SQLite's; store/postgres/send-queue.ts
 * and store/postgres/alert-queue.ts PostgreSQL's, shared by every instance. Answers may be
 * promises (a network database) or values (SQLite, synchronous on the writer thread).
 */
import type { AlertOutcome, AlertRow } from "../store/alert-store";
import type { ClaimedSend } from "../store/tracking-store";
import type { SendOutcome } from "../sweeper/sender";

type Maybe<T> = T | Promise<T>;

export interface SendQueue {
  /**
   * Claims up to `limit` due SMS (and those whose lease lapsed), marking each message
   * `sending`; a claim past its message's not_after is refused there and then (no request).
   */
  claim(token: string, leaseUntil: number, now: number, limit: number): Maybe<{ rows: ClaimedSend[]; refused: number }>;
  /** Records a round's outcomes, in one transaction; per row, false when the lease was lost. */
  finish(rows: readonly ClaimedSend[], token: string, outcomes: readonly SendOutcome[], now: number): Maybe<boolean[]>;
  /** When the next SMS waiting for an attempt is due (null: none waits). */
  nextAttemptAt(): Maybe<number | null>;
}

export interface AlertQueue {
  claim(token: string, leaseUntil: number, now: number, limit: number): Maybe<AlertRow[]>;
  finish(id: number, token: string, o: AlertOutcome, now: number): Maybe<boolean>;
}
