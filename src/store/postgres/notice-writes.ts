/**
 * Notices by Meta's clock on the PostgreSQL engine, written outside a processing batch's
 * plan: the tracker infers one (a marketing opt-out from error 131050) after the batch
 * decided. The value is set by a conditional upsert (an unknown time never beats a known
 * one; equal times, the later arrival wins), atomic on the row whichever instance writes
 * it; the history row says whether it applied, as on SQLite (store/notice-store.ts).
 */
import type { SQL } from "bun";
import type { Notice } from "../../domain/effects";

type Tx = SQL;

export async function recordNotices(tx: Tx, notices: readonly { notice: Notice; eventId: string }[], now: number): Promise<void> {
  for (const { notice, eventId } of notices) await recordNotice(tx, notice, eventId, now);
}

async function recordNotice(tx: Tx, n: Notice, eventId: string, now: number) {
  const { subject, id, attribute, value, at } = n;
  if (n.record === "changes") {
    const [current] = await tx`SELECT value FROM state_values WHERE subject = ${subject} AND subject_id = ${id} AND attribute = ${attribute}`;
    if (current && current.value === value) return;
  }
  const set = await tx`
    INSERT INTO state_values (subject, subject_id, attribute, value, at, event_id) VALUES (${subject}, ${id}, ${attribute}, ${value}, ${at}, ${eventId})
    ON CONFLICT (subject, subject_id, attribute) DO UPDATE SET value = excluded.value, at = excluded.at, event_id = excluded.event_id
    WHERE state_values.at IS NULL OR (excluded.at IS NOT NULL AND excluded.at >= state_values.at)
    RETURNING 1`;
  const applied = set.length > 0;
  await tx`
    INSERT INTO state_history (subject, subject_id, attribute, value, at, applied, event_id, received_at)
    VALUES (${subject}, ${id}, ${attribute}, ${value}, ${at}, ${applied}, ${eventId}, ${now})`;
  if (applied) await mirrorOf(tx, n, now);
}

/** The domain column each tracked value is mirrored to (fixed SQL, never built from input). */
export function mirrorOf(tx: Tx, { subject, attribute, id, value }: Notice, now: number) {
  switch (`${subject}.${attribute}`) {
    case "template.status":
      return tx`INSERT INTO templates (template_id, status, updated_at) VALUES (${id}, ${value}, ${now}) ON CONFLICT (template_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`;
    case "template.quality":
      return tx`INSERT INTO templates (template_id, quality, updated_at) VALUES (${id}, ${value}, ${now}) ON CONFLICT (template_id) DO UPDATE SET quality = excluded.quality, updated_at = excluded.updated_at`;
    case "template.category":
      return tx`INSERT INTO templates (template_id, category, updated_at) VALUES (${id}, ${value}, ${now}) ON CONFLICT (template_id) DO UPDATE SET category = excluded.category, updated_at = excluded.updated_at`;
    case "contact.profile_name":
      return tx`INSERT INTO contacts (wa_id, profile_name, updated_at) VALUES (${id}, ${value}, ${now}) ON CONFLICT (wa_id) DO UPDATE SET profile_name = excluded.profile_name, updated_at = excluded.updated_at`;
    case "contact.marketing_opt_out":
      return tx`INSERT INTO contacts (wa_id, marketing_opt_out, updated_at) VALUES (${id}, ${value === "stop"}, ${now}) ON CONFLICT (wa_id) DO UPDATE SET marketing_opt_out = excluded.marketing_opt_out, updated_at = excluded.updated_at`;
    default:
      return null;
  }
}
