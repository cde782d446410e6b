/**
 * A person's identities on SQLite (migrations/0013_identities.sql, domain/identity.ts):
 * read for a processing batch and for lookups by any id the person had, written as the
 * batch decided. One statement each, the ids as one JSON parameter.
 */
import type { Database } from "bun:sqlite";
import type { IdentityRow } from "../domain/identity";

type Stored = { id: string; person: string; kind: IdentityRow["kind"]; current_at: number | null };
const row = (r: Stored): IdentityRow => ({ id: r.id, person: r.person, kind: r.kind, currentAt: r.current_at });

export function identityStore(db: Database) {
  const persons = db.prepare<Stored, [string]>(
    `SELECT id, person, kind, current_at FROM identities
     WHERE person IN (SELECT person FROM identities WHERE id IN (SELECT value FROM json_each(?1))) ORDER BY id`,
  );
  // `WHERE true`: an upsert from a SELECT needs a WHERE before ON CONFLICT in SQLite's grammar.
  const upsert = db.prepare<unknown, [string]>(
    `INSERT INTO identities (id, person, kind, current_at)
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?1) WHERE true
     ON CONFLICT (id) DO UPDATE SET person = excluded.person, current_at = excluded.current_at`,
  );
  return {
    /** Every row of the persons these ids belong to. */
    ofPersons: (ids: readonly string[]): IdentityRow[] => (ids.length === 0 ? [] : persons.all(JSON.stringify(ids)).map(row)),
    write(rows: readonly IdentityRow[]) {
      if (rows.length > 0) upsert.run(JSON.stringify(rows.map((r) => [r.id, r.person, r.kind, r.currentAt])));
    },
  };
}
