/** Outbound messages watched for SMS fallback, their timeline, and the one SMS each may get (migrations/0006). */
import type { Database, Statement } from "bun:sqlite";
import type { ClaimedSend, FallbackSendRow, TrackedRow } from "../domain/tracked";
import type { Notice } from "../domain/effects";

export interface Move {
  state: string;
  detail?: Record<string, unknown> | null;
}

export interface TimelineRow {
  state: string;
  at: number;
  detail: string | null;
}

export function trackingStore(db: Database) {
  const get = db.prepare<TrackedRow, [string]>("SELECT * FROM tracked_messages WHERE wamid = ?");
  const rows = db.prepare<TrackedRow, [string]>("SELECT * FROM tracked_messages WHERE wamid IN (SELECT value FROM json_each(?))");
  const insert = db.prepare<unknown, Record<string, string | number | null>>(
    `INSERT INTO tracked_messages (wamid, recipient, text, category, stale_after_ms, not_after_ms, fallback, sent_at, registered_at, delivered_at,
       deadline, expires_at, state, reason, error_code, phone_number_id, created_at, updated_at)
     VALUES ($wamid, $recipient, $text, $category, $stale_after_ms, $not_after_ms, $fallback, $sent_at, $registered_at, $delivered_at,
       $deadline, $expires_at, $state, $reason, $error_code, $phone_number_id, $now, $now)`,
  );
  // One UPDATE per set of changed columns, prepared once: a move that changes only the
  // state leaves the deadline indexes alone (a full-row UPDATE rewrote them every time).
  const updates = new Map<string, Statement<unknown, (string | number | null)[]>>();
  const update = (columns: readonly Column[]) => {
    const key = columns.join(",");
    let statement = updates.get(key);
    if (!statement) {
      statement = db.prepare(`UPDATE tracked_messages SET ${columns.map((c) => `${c} = ?`).join(", ")}, updated_at = ? WHERE wamid = ?`);
      updates.set(key, statement);
    }
    return statement;
  };
  // Not INSERT … SELECT max(seq): reading the table it writes makes SQLite copy the
  // SELECT's result first, twice the cost of a lookup and a plain insert.
  const nextSeq = db.prepare<{ n: number }, [string]>("SELECT coalesce(max(seq), 0) + 1 n FROM tracked_timeline WHERE wamid = ?");
  const addTimeline = db.prepare<unknown, [string, number, string, number, string | null]>("INSERT INTO tracked_timeline (wamid, seq, state, at, detail) VALUES (?, ?, ?, ?, ?)");
  const timeline = db.prepare<TimelineRow, [string]>("SELECT state, at, detail FROM tracked_timeline WHERE wamid = ? ORDER BY seq");
  const insertSend = db.prepare<unknown, [string, string, string, string, string, number | null, string | null, number]>(
    `INSERT INTO fallback_sends (wamid, state, recipient, text, reason, error_code, category, next_attempt_at, created_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?8) ON CONFLICT (wamid) DO NOTHING`,
  );
  const nextAttempt = db.prepare<{ at: number | null }, []>("SELECT min(next_attempt_at) at FROM fallback_sends WHERE state = 'pending'");
  const getSend = db.prepare<FallbackSendRow, [string]>("SELECT * FROM fallback_sends WHERE wamid = ?");
  const cancelSend = db.prepare<unknown, [string, number]>("UPDATE fallback_sends SET state = 'cancelled', updated_at = ?2 WHERE wamid = ?1 AND state = 'pending'");
  const recoverSends = db.prepare<unknown, [string]>("UPDATE fallback_sends SET lease_until = 0 WHERE state = 'sending' AND substr(lease_token, 1, length(?1)) = ?1");
  // Two claims, so each row says which it was: due ones first, then those of a run that stopped.
  const claim = (which: string, retaken: 0 | 1) =>
    db.prepare<ClaimedSend, [string, number, number, number]>(
      `UPDATE fallback_sends SET state = 'sending', attempts = attempts + 1, lease_token = ?1, lease_until = ?2
       WHERE wamid IN (${which})
       RETURNING *, (SELECT expires_at FROM tracked_messages t WHERE t.wamid = fallback_sends.wamid) expires_at, ${retaken} retaken`,
    );
  const claimDue = claim("SELECT wamid FROM fallback_sends WHERE state = 'pending' AND next_attempt_at <= ?3 ORDER BY next_attempt_at LIMIT ?4", 0);
  const claimLapsed = claim("SELECT wamid FROM fallback_sends WHERE state = 'sending' AND lease_until < ?3 LIMIT ?4", 1);
  // A claim given up unsent (past not_after): not an attempt, so the claim's count is taken back.
  const refuseSend = db.prepare<unknown, [string, string, string, string, number]>(
    `UPDATE fallback_sends SET state = ?3, attempts = attempts - 1, last_error = ?4, updated_at = ?5, lease_token = NULL, lease_until = NULL
     WHERE wamid = ?1 AND lease_token = ?2`,
  );
  const finishSend = db.prepare<unknown, [string, string, string, number | null, string | null, string | null, number | null, number]>(
    `UPDATE fallback_sends SET state = ?3, provider_status = ?4, provider_response = ?5, last_error = ?6,
       next_attempt_at = coalesce(?7, next_attempt_at), sent_at = CASE WHEN ?3 = 'sent' THEN ?8 ELSE sent_at END,
       updated_at = ?8, lease_token = NULL, lease_until = NULL
     WHERE wamid = ?1 AND lease_token = ?2`,
  );
  const resolveSend = db.prepare<unknown, [string, string, number]>(
    "UPDATE fallback_sends SET state = ?2, next_attempt_at = ?3, updated_at = ?3, lease_token = NULL, lease_until = NULL WHERE wamid = ?1 AND state = 'unknown'",
  );

  return {
    get: (wamid: string) => get.get(wamid),
    /** The rows of a set of wamids, in one read (absent: not tracked). */
    rows: (wamids: readonly string[]) => new Map(rows.all(JSON.stringify(wamids)).map((r) => [r.wamid, r])),
    insert: (r: TrackedRow, now: number): void => void insert.run(bind(r, now)),
    /** Writes the columns `after` changed (nothing when none did). */
    save(before: TrackedRow, after: TrackedRow, now: number) {
      const columns = COLUMNS.filter((c) => before[c] !== after[c]);
      if (columns.length > 0) update(columns).run(...columns.map((c) => after[c]), now, after.wamid);
    },
    /** Appends moves to the message's timeline, in this order. */
    note(wamid: string, at: number, ...moves: Move[]) {
      let seq = nextSeq.get(wamid)!.n;
      for (const m of moves) addTimeline.run(wamid, seq++, m.state, at, m.detail ? JSON.stringify(m.detail) : null);
    },
    timeline: (wamid: string) => timeline.all(wamid),
    /** The one SMS of this wamid; false when it already has one (the primary key says so). */
    addSend(s: Pick<FallbackSendRow, "wamid" | "state" | "recipient" | "text" | "reason" | "error_code" | "category">, now: number): boolean {
      return insertSend.run(s.wamid, s.state, s.recipient, s.text, s.reason, s.error_code, s.category, now).changes > 0;
    },
    send: (wamid: string) => getSend.get(wamid),
    /** When the next SMS waiting for an attempt is due (null: none waits). */
    nextAttemptAt: () => nextAttempt.get()?.at ?? null,
    /** Proof of delivery before the SMS was claimed: it is never sent. */
    cancelSend: (wamid: string, now: number) => cancelSend.run(wamid, now).changes > 0,
    claimSends(token: string, leaseUntil: number, now: number, limit: number): ClaimedSend[] {
      const due = claimDue.all(token, leaseUntil, now, limit);
      return due.length < limit ? [...due, ...claimLapsed.all(token, leaseUntil, now, limit - due.length)] : due;
    },
    /** A claim not sent after all (past not_after): `expired`, or `unknown` when an earlier request may have gone out. */
    refuseSend: (wamid: string, token: string, state: "expired" | "unknown", why: string, now: number) => refuseSend.run(wamid, token, state, why, now).changes > 0,
    /** SMS an earlier, crashed run of this instance had claimed: claimable again now (sent with the same key). */
    recoverSends: (instance: string) => recoverSends.run(`${instance}:`).changes,
    /** Records the attempt's outcome; false when the lease was lost (another run took the row). */
    finishSend(wamid: string, token: string, o: { state: string; status: number | null; response: string | null; error: string | null; retryAt: number | null }, now: number): boolean {
      return finishSend.run(wamid, token, o.state, o.status, o.response, o.error, o.retryAt, now).changes > 0;
    },
    /** An `unknown` send resolved by hand: `pending` sends it again (same Idempotency-Key), `sent` records it as sent. */
    resolveUnknown: (wamid: string, state: "pending" | "sent", now: number) => resolveSend.run(wamid, state, now).changes > 0,
  };
}
export type TrackingStore = ReturnType<typeof trackingStore>;

/** What the tracker (sweeper/tracker.ts) reads and writes, in its caller's transaction. */
export type TrackerStore = Pick<TrackingStore, "get" | "rows" | "insert" | "save" | "note" | "timeline" | "addSend" | "send" | "cancelSend" | "refuseSend">;

/** Judges and records a notice by Meta's clock (store/notice-store.ts); true when it is now the current value. */
export interface NoticeApplier {
  apply(n: Notice, eventId: string, now: number): boolean;
}

/** The columns a move may change (never the key): also the only names that reach an UPDATE's text. */
const COLUMNS = ["recipient", "text", "category", "stale_after_ms", "not_after_ms", "fallback", "sent_at", "registered_at", "delivered_at", "deadline", "expires_at", "state", "reason", "error_code", "phone_number_id"] as const satisfies readonly Exclude<keyof TrackedRow, "wamid">[];
type Column = (typeof COLUMNS)[number];

/** Named parameters, as bun:sqlite expects them without `strict`: `$column`. */
const bind = (r: TrackedRow, now: number): Record<string, string | number | null> =>
  Object.fromEntries(Object.entries({ ...r, now }).map(([k, v]) => [`$${k}`, v]));

/** The outage guard's counts: deadlines in (from, to], and how many of those are still undelivered. */
export function deadlineWindow(db: Database, from: number, to: number): { total: number; stale: number } {
  return db
    .query<{ total: number; stale: number | null }, [number, number]>(
      // Two index-only counts (tracked_by_deadline, and the partial tracked_due): no row is read.
      `SELECT (SELECT count(*) FROM tracked_messages WHERE deadline > ?1 AND deadline <= ?2) total,
              (SELECT count(*) FROM tracked_messages WHERE state = 'tracked' AND deadline > ?1 AND deadline <= ?2) stale`,
    )
    .get(from, to) as { total: number; stale: number };
}
