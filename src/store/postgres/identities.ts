/**
 * A person's identities on PostgreSQL: as SQLite's store/identity-store.ts. A batch that
 * links ids takes IDENTITY_LOCK (with its other advisory locks) before reading: two
 * instances linking ids of one person at once would each rewrite the group from what it
 * read and one would undo the other's merge; identity changes are rare, so one lock for
 * all of them costs nothing and needs no knowledge of the groups before reading them.
 */
import type { SQL } from "bun";
import type { IdentityRow } from "../../domain/identity";

/** The advisory lock key (hashed like the message and notice keys; \u001f keeps it apart from them). */
export const IDENTITY_LOCK = "i\u001fidentities";

type Tx = SQL;

/** Every row of the persons these ids belong to. */
export async function identitiesOfPersons(tx: Tx, ids: readonly string[]): Promise<IdentityRow[]> {
  if (ids.length === 0) return [];
  const rows = await tx`
    SELECT id, person, kind, current_at FROM identities
    WHERE person IN (SELECT person FROM identities WHERE id = ANY(${tx.array([...ids], "TEXT")}::text[])) ORDER BY id`;
  return rows.map((r: { id: string; person: string; kind: IdentityRow["kind"]; current_at: string | null }) => ({
    id: r.id,
    person: r.person,
    kind: r.kind,
    currentAt: r.current_at === null ? null : Number(r.current_at),
  }));
}

/** The rows the batch decided (domain/identity.ts), in one statement. */
export function writeIdentities(tx: Tx, rows: readonly IdentityRow[]) {
  return tx`
    INSERT INTO identities (id, person, kind, current_at)
    SELECT * FROM unnest(${tx.array(rows.map((r) => r.id), "TEXT")}::text[], ${tx.array(rows.map((r) => r.person), "TEXT")}::text[],
      ${tx.array(rows.map((r) => r.kind), "TEXT")}::text[], ${tx.array(rows.map((r) => r.currentAt) as number[], "INT8")}::int8[])
    ON CONFLICT (id) DO UPDATE SET person = excluded.person, current_at = excluded.current_at`;
}
