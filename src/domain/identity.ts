/**
 * A person's identities (issue 22): a phone number changed (`user_changed_number`) or a
 * business-scoped user id changed (`user.id_changed`) is still the same person. Every id
 * a person had maps to one person key, so that a lookup or an erasure by any of them
 * finds them all (migrations/0013_identities.sql). Pure: the processing batch decides
 * with it (worker/plan.ts), the engines store its rows.
 *
 * Decided by Meta's clock and independent of arrival order, as Meta retries for days in
 * no order: the ids a change names are one person whenever it arrives (a union), the
 * person key is the group's smallest id (not the first seen), and the current id of a
 * kind is the one Meta made current the latest (`current_at`), so a late, older change
 * never undoes a newer one.
 */

export type IdKind = "wa_id" | "user_id" | "parent_user_id";

/** One id a change names; `current`: the change makes it the person's id of its kind. */
export interface NamedId {
  id: string;
  kind: IdKind;
  current: boolean;
}

/** One change: its ids are one person; `at` is Meta's time of the change (null: unknown). */
export interface IdentityLink {
  ids: NamedId[];
  at: number | null;
}

export interface IdentityRow {
  id: string;
  person: string;
  kind: IdKind;
  /** The newest Meta time this id became current (0: at an unknown time, which any known time beats); null: never. */
  currentAt: number | null;
}

/** A change at an unknown time is still a change, older than any known one. */
const UNKNOWN_TIME = 0;

/**
 * The rows after these changes, given every stored row of the persons they touch:
 * only the rows that are new or differ. Links are merged in any order to the same result.
 */
export function linkIdentities(stored: readonly IdentityRow[], links: readonly IdentityLink[]): IdentityRow[] {
  const rows = new Map(stored.map((r) => [r.id, { ...r }]));
  const parent = new Map<string, string>();
  const find = (id: string): string => {
    const up = parent.get(id) ?? id;
    return up === id ? id : find(up);
  };
  const union = (a: string, b: string) => {
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  };
  for (const r of stored) union(r.id, r.person);
  for (const link of links) {
    for (const n of link.ids) {
      const row = rows.get(n.id) ?? { id: n.id, person: n.id, kind: n.kind, currentAt: null };
      if (n.current) row.currentAt = Math.max(row.currentAt ?? -1, link.at ?? UNKNOWN_TIME);
      rows.set(n.id, row);
      union(n.id, link.ids[0]!.id);
    }
  }
  const before = new Map(stored.map((r) => [r.id, r]));
  const changed: IdentityRow[] = [];
  for (const row of rows.values()) {
    // The root of a group is its smallest id: each union keeps the smaller of two roots.
    row.person = find(row.id);
    const old = before.get(row.id);
    if (!old || old.person !== row.person || old.currentAt !== row.currentAt) changed.push(row);
  }
  return changed.sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** The person as the admin API shows them: their current id of each kind and every id they had. */
export interface Identity {
  wa_id: string | null;
  user_id: string | null;
  parent_user_id: string | null;
  ids: string[];
}

/** Current of a kind: the newest `current_at`; equal times (two changes in one second): the larger id, the same answer in any order. */
export function identityOf(requested: string, rows: readonly IdentityRow[]): Identity {
  const current = (kind: IdKind) =>
    rows
      .filter((r) => r.kind === kind && r.currentAt !== null)
      .reduce<IdentityRow | null>((best, r) => (best === null || r.currentAt! > best.currentAt! || (r.currentAt === best.currentAt && r.id > best.id) ? r : best), null)?.id ?? null;
  const ids = [...new Set([requested, ...rows.map((r) => r.id)])].sort();
  // An id no change made current (a number named beside a user id change, a user id seen with its parent) is
  // still the person's, when it is their only one of its kind.
  const only = (kind: IdKind) => {
    const of = rows.filter((r) => r.kind === kind);
    return of.length === 1 ? of[0]!.id : null;
  };
  // Never linked: the id asked for is all there is, shown as the kind its form says (a username user's BSUID is no wa_id).
  const alone = rows.length === 0 ? kindOf(requested) : null;
  const shown = (kind: IdKind) => current(kind) ?? only(kind) ?? (alone === kind ? requested : null);
  return { wa_id: shown("wa_id"), user_id: shown("user_id"), parent_user_id: shown("parent_user_id"), ids };
}

/**
 * A business-scoped user id and its parent (the same person's id across the business
 * portfolio), seen together on a message or status: one person. Neither is made current
 * (a change says that), so the link is written once, not at every message.
 */
export function parentLink(userId: string | null | undefined, parentUserId: unknown, at: number | null): IdentityLink | null {
  if (!userId || typeof parentUserId !== "string" || !parentUserId || parentUserId === userId) return null;
  return { ids: [{ id: userId, kind: "user_id", current: false }, { id: parentUserId, kind: "parent_user_id", current: false }], at };
}

/** A stored phone number is digits only; a parent user id reads "US.ENT.…"; any other id is a user id. */
const kindOf = (id: string): IdKind => (/^[0-9]+$/.test(id) ? "wa_id" : /^[A-Z]{2}\.ENT\./i.test(id) ? "parent_user_id" : "user_id");
