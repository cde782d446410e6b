/** Operator alerts and their sending (migrations/0007). */
import type { Database } from "bun:sqlite";
import type { AlertDraft, AlertOutcome, AlertRow } from "../domain/alert";

/** GET /v1/alerts: which alerts, and the page (`before`: the previous page's last id). */
export interface AlertFilter {
  /** null: every kind. */
  kinds: readonly string[] | null;
  state: string | null;
  since: number | null;
  until: number | null;
}

export function alertStore(db: Database) {
  const insert = db.prepare<{ id: number }, [string, string, string, string, string, string, string, number]>(
    `INSERT INTO alerts (kind, dedup_key, severity, title, text, data, state, next_attempt_at, created_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?8) ON CONFLICT (dedup_key) DO NOTHING RETURNING id`,
  );
  const claim = db.prepare<AlertRow, [string, number, number, number]>(
    `UPDATE alerts SET state = 'sending', attempts = attempts + 1, lease_token = ?1, lease_until = ?2
     WHERE id IN (SELECT id FROM alerts WHERE (state = 'pending' AND next_attempt_at <= ?3) OR (state = 'sending' AND lease_until < ?3) ORDER BY id LIMIT ?4)
     RETURNING id, kind, dedup_key, severity, title, text, data, state, attempts, last_status, last_error, created_at, sent_at`,
  );
  const finish = db.prepare<unknown, [number, string, string, number | null, string | null, number, number]>(
    `UPDATE alerts SET state = ?3, last_status = ?4, last_error = ?5, next_attempt_at = ?6, updated_at = ?7,
       sent_at = CASE WHEN ?3 = 'sent' THEN ?7 ELSE sent_at END, lease_token = NULL, lease_until = NULL
     WHERE id = ?1 AND lease_token = ?2`,
  );
  // Newest first by id, filtered along the way: alerts are few (one per occurrence, kept for storage.retention).
  const list = db.prepare<AlertRow, [string | null, string | null, number | null, number | null, number | null, number]>(
    `SELECT id, kind, dedup_key, severity, title, text, data, state, attempts, last_status, last_error, created_at, sent_at FROM alerts
     WHERE (?1 IS NULL OR kind IN (SELECT value FROM json_each(?1))) AND (?2 IS NULL OR state = ?2)
       AND (?3 IS NULL OR created_at >= ?3) AND (?4 IS NULL OR created_at < ?4) AND (?5 IS NULL OR id < ?5)
     ORDER BY id DESC LIMIT ?6`,
  );
  return {
    list: (f: AlertFilter, before: number | null, limit: number) =>
      list.all(f.kinds === null ? null : JSON.stringify(f.kinds), f.state, f.since, f.until, before, limit),
    /** The new row's id; null when this occurrence was already alerted. */
    insert: (a: AlertDraft, state: "pending" | "recorded", now: number) =>
      insert.get(a.kind, a.key, a.severity, a.title, a.text, JSON.stringify(a.data), state, now)?.id ?? null,
    claim: (token: string, leaseUntil: number, now: number, limit: number) => claim.all(token, leaseUntil, now, limit),
    finish: (id: number, token: string, o: AlertOutcome, now: number) =>
      finish.run(id, token, o.state, o.status, o.error, o.state === "pending" ? o.retryAt : now, now).changes === 1,
  };
}
export type AlertStore = ReturnType<typeof alertStore>;
