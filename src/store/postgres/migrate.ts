/**
 * Applies the PostgreSQL engine's pending migrations in one transaction, under a
 * transaction-level advisory lock: instances starting at once on an empty database
 * queue on the lock, the first migrates, the others find nothing left to do. PostgreSQL
 * DDL is transactional, so a failed migration leaves the schema as it was. A database
 * written by a newer binary is refused, as with SQLite.
 *
 * A transaction-level lock (not a session one) works through a pooler in transaction
 * mode and is released by COMMIT or by the connection dying, never left behind.
 */
import type { SQL } from "bun";
import { MigrationError, type MigrateResult } from "../migrate";
import type { Migration } from "../migrations";
import { PG_LATEST_VERSION, PG_MIGRATIONS } from "./migrations";

/** The advisory lock every instance takes to migrate (a fixed key, in PostgreSQL's bigint space). */
const MIGRATION_LOCK = "wa-webhookd migrations";

export async function migratePostgres(sql: SQL, migrations: readonly Migration[] = PG_MIGRATIONS): Promise<MigrateResult> {
  const latest = migrations === PG_MIGRATIONS ? PG_LATEST_VERSION : Math.max(0, ...migrations.map((m) => m.version));
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtextextended(${MIGRATION_LOCK}, 0))`;
    const foreign = await foreignTables(tx);
    if (foreign.length > 0) throw new MigrationError(foreignTablesProblem(foreign));
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`;
    const [{ v }] = await tx`SELECT coalesce(max(version), 0)::int AS v FROM schema_migrations`;
    const from = v as number;
    if (from > latest) {
      throw new MigrationError(
        `database schema version ${from} is newer than this binary supports (${latest}); ` +
          "run the wa-webhookd release that wrote it, or restore a backup taken before the upgrade",
      );
    }
    const applied: string[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (m.version <= from) continue;
      await tx.unsafe(m.sql);
      await tx`INSERT INTO schema_migrations (version, name) VALUES (${m.version}, ${m.name})`;
      applied.push(m.name);
    }
    return { from, to: Math.max(from, latest), applied };
  });
}

/** The applied schema version (0: never migrated). */
export async function postgresSchemaVersion(sql: SQL): Promise<number> {
  const [{ exists }] = await sql`SELECT to_regclass('schema_migrations') IS NOT NULL AS exists`;
  if (!exists) return 0;
  const [{ v }] = await sql`SELECT coalesce(max(version), 0)::int AS v FROM schema_migrations`;
  return v as number;
}

/**
 * Tables in the schema the engine would create its own in, with no wa-webhookd schema
 * beside them (another application's database, a wrong database name): migrating would
 * stop at the first name they share, or mix our tables into theirs.
 */
export async function foreignTables(sql: SQL): Promise<string[]> {
  const rows = await sql`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = current_schema() AND to_regclass('schema_migrations') IS NULL
    ORDER BY table_name LIMIT 6`;
  return rows.map((r: { name: string }) => r.name);
}

export const foreignTablesProblem = (tables: readonly string[]) =>
  `the database holds tables wa-webhookd did not make (${tables.slice(0, 5).join(", ")}${tables.length > 5 ? ", …" : ""}) and no wa-webhookd schema: give it a database of its own (an empty one is migrated at start)`;
