/**
 * Notices judged by Meta's clock (migrations/0004): a notice sets a value only if it
 * is not older than the notice that set the current one; every notice goes to the
 * history. The templates and contacts columns mirror the current values.
 */
import type { Database } from "bun:sqlite";
import type { Notice } from "../domain/effects";

/** The domain column each tracked value is mirrored to (fixed SQL, never built from input). */
const MIRRORS: Partial<Record<`${Notice["subject"]}.${Notice["attribute"]}`, string>> = {
  "template.status": "INSERT INTO templates (template_id, status, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT (template_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
  "template.quality": "INSERT INTO templates (template_id, quality, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT (template_id) DO UPDATE SET quality = excluded.quality, updated_at = excluded.updated_at",
  "template.category": "INSERT INTO templates (template_id, category, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT (template_id) DO UPDATE SET category = excluded.category, updated_at = excluded.updated_at",
  "contact.profile_name": "INSERT INTO contacts (wa_id, profile_name, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT (wa_id) DO UPDATE SET profile_name = excluded.profile_name, updated_at = excluded.updated_at",
  "contact.marketing_opt_out":
    "INSERT INTO contacts (wa_id, marketing_opt_out, updated_at) VALUES (?1, ?2 = 'stop', ?3) ON CONFLICT (wa_id) DO UPDATE SET marketing_opt_out = excluded.marketing_opt_out, updated_at = excluded.updated_at",
};

export function noticeStore(db: Database) {
  // An unknown time never beats a known one; equal times: the later arrival wins.
  const set = db.prepare<unknown, [string, string, string, string | null, number | null, string]>(
    `INSERT INTO state_values (subject, subject_id, attribute, value, at, event_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
     ON CONFLICT (subject, subject_id, attribute) DO UPDATE SET value = excluded.value, at = excluded.at, event_id = excluded.event_id
     WHERE state_values.at IS NULL OR (excluded.at IS NOT NULL AND excluded.at >= state_values.at)`,
  );
  const history = db.prepare<unknown, [string, string, string, string | null, number | null, number, string, number]>(
    "INSERT INTO state_history (subject, subject_id, attribute, value, at, applied, event_id, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const current = db.prepare<{ value: string | null }, [string, string, string]>("SELECT value FROM state_values WHERE subject = ? AND subject_id = ? AND attribute = ?");
  const mirrors = new Map(Object.entries(MIRRORS).map(([k, sql]) => [k, db.prepare<unknown, [string, string | null, number]>(sql)]));

  /** `receivedAt`: when the notice's webhook arrived (the history row's received_at); `now` by default (a notice the daemon raises). */
  const record = (n: Notice, eventId: string, applied: boolean, now: number, receivedAt = now) => {
    history.run(n.subject, n.id, n.attribute, n.value, n.at, applied ? 1 : 0, eventId, receivedAt);
    if (!applied) return;
    set.run(n.subject, n.id, n.attribute, n.value, n.at, eventId);
    mirrors.get(`${n.subject}.${n.attribute}`)?.run(n.id, n.value, now);
  };

  return {
    /** Stores a notice already judged by Meta's clock (worker/plan.ts): its history row and, when applied, the value. */
    record,
    /** Judges and records one notice; true when it is now the current value. */
    apply(n: Notice, eventId: string, now: number): boolean {
      if (n.record === "changes" && current.get(n.subject, n.id, n.attribute)?.value === n.value) return false;
      const applied = set.run(n.subject, n.id, n.attribute, n.value, n.at, eventId).changes > 0;
      history.run(n.subject, n.id, n.attribute, n.value, n.at, applied ? 1 : 0, eventId, now);
      if (applied) mirrors.get(`${n.subject}.${n.attribute}`)?.run(n.id, n.value, now);
      return applied;
    },
  };
}
