/**
 * What the `fallback` and `alerts` jobs ask of a storage engine: claim due rows with a
 * lease and a token, and record each outcome only while the token still holds the row.
 * store/send-queue.ts and store/alert-store.ts are SQLite's; store/postgres/send-queue.ts
 * and store/postgres/alert-queue.ts PostgreSQL's, shared by every instance. Answers may be
 * promises (a network database) or values (SQLite, synchronous on the writer thread).
 */
import type { ClaimedSend, SendOutcome } from "../domain/tracked";
import type { AlertOutcome, AlertRow } from "../domain/alert";

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

/**
 * The fallback state machine's moves (sweeper/tracker.ts) that a send queue makes inside
 * its own claim and finish transactions, on that engine's unit of work.
 */
export interface SendMoves {
  /** A claim past its message's not_after: the SMS is not sent. */
  refuseExpired(send: ClaimedSend, token: string, now: number): void;
  /** The SMS was claimed: the message is no longer cancellable. */
  markSending(wamid: string, now: number): void;
  /** An attempt's final outcome moves the message. */
  recordSend(wamid: string, outcome: "sent" | "failed" | "unknown", now: number): void;
  /** An attempt failed and another is due: unless the message was delivered meanwhile (then none), noted when it waits other than retry_schedule says. */
  retryLater(wamid: string, o: Pick<SendOutcome, "status" | "retryAt" | "why">, attempts: number, now: number): void;
}

export interface AlertQueue {
  claim(token: string, leaseUntil: number, now: number, limit: number): Maybe<AlertRow[]>;
  finish(id: number, token: string, o: AlertOutcome, now: number): Maybe<boolean>;
}
