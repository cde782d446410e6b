/**
 * The SQLite engine's SMS queue (engine/fallback.ts): a claim and a round's outcomes are
 * each one IMMEDIATE transaction, with the tracker's moves (sweeper/tracker.ts) in it.
 */
import type { Database } from "bun:sqlite";
import type { SendMoves, SendQueue } from "../engine/fallback";
import type { TrackingStore } from "./tracking-store";
import { pastNotAfter, type ClaimedSend, type SendOutcome } from "../domain/tracked";

/** The tracker on this database (sweeper/tracker.ts): its moves, and the store it makes them on. */
type SqliteTracker = SendMoves & { store: Pick<TrackingStore, "claimSends" | "finishSend" | "nextAttemptAt"> };

export function sqliteSendQueue(db: Database, tracker: SqliteTracker): SendQueue {
  // An SMS taken past its not_after is refused in the claim's own transaction: no request.
  const claim = db.transaction((token: string, leaseUntil: number, now: number, limit: number) => claimSends(tracker, tracker.store.claimSends(token, leaseUntil, now, limit), token, now));
  const finish = db.transaction((rows: readonly ClaimedSend[], token: string, outcomes: readonly SendOutcome[], now: number) =>
    rows.map((row, i) => finishSend(tracker, row, outcomes[i]!, now, () => tracker.store.finishSend(row.wamid, token, outcomes[i]!, now))),
  );
  return {
    claim: (token, leaseUntil, now, limit) => claim.immediate(token, leaseUntil, now, limit),
    finish: (rows, token, outcomes, now) => finish.immediate(rows, token, outcomes, now),
    nextAttemptAt: () => tracker.store.nextAttemptAt(),
  };
}

/** In the claim's transaction, on either engine: refuses what is past not_after, marks the rest `sending`. */
export function claimSends(tracker: Pick<SendMoves, "refuseExpired" | "markSending">, claimed: readonly ClaimedSend[], token: string, now: number) {
  const rows = claimed.filter((row) => !pastNotAfter(row.expires_at, now));
  for (const row of claimed) if (pastNotAfter(row.expires_at, now)) tracker.refuseExpired(row, token, now);
  for (const row of rows) tracker.markSending(row.wamid, now);
  return { rows, refused: claimed.length - rows.length };
}

/** In the round's transaction, on either engine: `recorded` is the token-checked write of the outcome; then the message moves. */
export function finishSend(tracker: Pick<SendMoves, "recordSend" | "retryLater">, row: ClaimedSend, o: SendOutcome, now: number, recorded: () => boolean): boolean {
  if (!recorded()) return false;
  if (o.state !== "pending") tracker.recordSend(row.wamid, o.state, now);
  else tracker.retryLater(row.wamid, o, row.attempts, now);
  return true;
}
