/**
 * One person's contact when they had several ids (domain/identity.ts): the rows of
 * `contacts` under each id, merged. The profile name and the marketing opt-out are
 * notices by Meta's clock, so the person's is the newest notice under any of their ids
 * (a stop sent from the old number still holds after the change unless a newer resume
 * came); last seen and updated are the latest. Pure.
 */

export interface ContactValues {
  wa_id: string;
  profile_name: string | null;
  last_seen_at: number | null;
  marketing_opt_out: number;
  updated_at: number;
}

/** When the notice that set a contact's value happened (state_values.at; null: unknown). */
export interface ValueClock {
  id: string;
  attribute: "profile_name" | "marketing_opt_out";
  at: number | null;
}

export function mergeContacts(current: string, rows: readonly ContactValues[], clocks: readonly ValueClock[]): ContactValues | null {
  if (rows.length === 0) return null;
  const at = (id: string, attribute: ValueClock["attribute"]) => clocks.find((c) => c.id === id && c.attribute === attribute)?.at ?? -1;
  // Newest first; at equal times the current id's row, then the larger id: one answer whatever the order read.
  const newest = (attribute: ValueClock["attribute"], has: (r: ContactValues) => boolean) =>
    rows.filter(has).reduce<ContactValues | null>((best, r) => {
      if (best === null) return r;
      const [a, b] = [at(r.wa_id, attribute), at(best.wa_id, attribute)];
      return a > b || (a === b && (r.wa_id === current || (best.wa_id !== current && r.wa_id > best.wa_id))) ? r : best;
    }, null);
  const seen = rows.map((r) => r.last_seen_at).filter((t): t is number => t !== null);
  return {
    wa_id: current,
    profile_name: newest("profile_name", (r) => r.profile_name !== null)?.profile_name ?? null,
    marketing_opt_out: newest("marketing_opt_out", () => true)?.marketing_opt_out ?? 0,
    last_seen_at: seen.length > 0 ? Math.max(...seen) : null,
    updated_at: Math.max(...rows.map((r) => r.updated_at)),
  };
}
