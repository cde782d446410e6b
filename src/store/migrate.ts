/**
 * Applies pending migrations, each in its own IMMEDIATE transaction, and records
 * them in schema_migrations. A database written by a newer binary is refused:
 * running old code against a newer schema can silently lose data.
 */
import type { Database } from "bun:sqlite";
import { MIGRATIONS, LATEST_VERSION, type Migration } from "./migrations";

export class MigrationError extends Error {
  override name = "MigrationError";
}

export interface MigrateResult {
  from: number;
  to: number;
  applied: string[];
}

/** The applied schema version; throws if the database was never migrated. */
export function schemaVersion(db: Database): number {
  return db.query<{ v: number | null }, []>("SELECT max(version) AS v FROM schema_migrations").get()?.v ?? 0;
}

export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): MigrateResult {
  // A new file gives pages freed by retention back to the file system (PRAGMA
  // incremental_vacuum). SQLite takes this only before the first table exists, and
  // once the file has a header (WAL mode wrote one) only through a VACUUM: instant here.
  if (isEmpty(db)) {
    db.run("PRAGMA auto_vacuum = INCREMENTAL");
    db.run("VACUUM");
  }
  ensureVersionTable(db);
  const from = schemaVersion(db);
  const latest = migrations === MIGRATIONS ? LATEST_VERSION : Math.max(0, ...migrations.map((m) => m.version));
  if (from > latest) {
    throw new MigrationError(
      `database schema version ${from} is newer than this binary supports (${latest}); ` +
        "run the wa-webhookd release that wrote it, or restore a backup taken before the upgrade",
    );
  }
  const applied: string[] = [];
  const record = db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= from) continue;
    // A migration that rebuilds a referenced table says so on its first line: SQLite only
    // lets foreign keys be switched off outside a transaction, so they are checked by hand.
    const rebuilds = m.sql.startsWith("-- migrate: foreign_keys off");
    if (rebuilds) db.run("PRAGMA foreign_keys = OFF");
    try {
      db.transaction(() => {
        db.run(m.sql);
        if (rebuilds && db.query("PRAGMA foreign_key_check").all().length > 0) throw new MigrationError(`${m.name} would break foreign keys`);
        record.run(m.version, m.name, new Date().toISOString());
      }).immediate();
    } finally {
      if (rebuilds) db.run("PRAGMA foreign_keys = ON");
    }
    applied.push(m.name);
  }
  return { from, to: Math.max(from, latest), applied };
}

function isEmpty(db: Database): boolean {
  return db.query<{ n: number }, []>("SELECT count(*) AS n FROM sqlite_master").get()!.n === 0;
}

function ensureVersionTable(db: Database) {
  db.run(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
       version    INTEGER PRIMARY KEY,
       name       TEXT NOT NULL,
       applied_at TEXT NOT NULL
     ) STRICT`,
  );
}
