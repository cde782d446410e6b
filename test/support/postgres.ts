/**
 * A real PostgreSQL server for the engine's tests: WA_TEST_PG_URL (default the local
 * cluster, trust auth). Each call makes a fresh database, dropped after the test file (see below);
 * a server that cannot be reached fails the test, it never skips it (.ci/run starts one).
 */
import { SQL } from "bun";
import { afterAll } from "bun:test";
import { migratePostgres } from "../../src/store/postgres/migrate";

export const PG_URL = process.env.WA_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

const made: string[] = [];
let admin: SQL | null = null;

/** Drops every database made so far (and closes the admin connection). */
export async function dropDatabases() {
  if (!admin) return;
  for (const name of made.splice(0)) await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
  await admin.close();
  admin = null;
}

// Bun runs a hook registered here once, after the first test file that imports this
// module: a file that makes databases in a run of several files also calls
// `afterAll(dropDatabases)` itself (test/support/engine.ts does it for the reliability suite).
afterAll(dropDatabases);

/**
 * Databases an earlier run made and could not drop (it was killed or timed out: afterAll
 * never ran), on a local server only: their name says which process made them, and that
 * process is gone. A remote server's names may belong to a live run elsewhere.
 */
async function dropLeftovers(sql: SQL) {
  if (!["127.0.0.1", "localhost", "[::1]"].includes(new URL(PG_URL).hostname)) return;
  const rows = await sql`SELECT datname FROM pg_database WHERE datname LIKE 'wa\_test\_%'`.catch(() => []);
  for (const { datname } of rows as { datname: string }[]) {
    const pid = Number(/^wa_test_(\d+)_/.exec(datname)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    await sql.unsafe(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`).catch(() => {});
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === "EPERM";
  }
}

/** The URL of a new, empty database on the test server. */
export async function freshDatabase(): Promise<string> {
  if (!admin) {
    admin = new SQL(PG_URL, { max: 1 });
    await dropLeftovers(admin);
  }
  const name = `wa_test_${process.pid}_${made.length}_${Math.random().toString(36).slice(2, 8)}`;
  await admin.unsafe(`CREATE DATABASE ${name}`).catch((err: Error) => {
    throw new Error(`the PostgreSQL engine's tests need a server: cannot create a database at WA_TEST_PG_URL=${PG_URL.replace(/:[^:@/]*@/, ":***@")} (${err.message}); start one, or set WA_TEST_PG_URL`);
  });
  made.push(name);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A new database with the engine's schema, and a pool on it (closed with the test file). */
export async function migratedDatabase(pool = 4): Promise<{ url: string; sql: SQL }> {
  const url = await freshDatabase();
  const sql = new SQL(url, { max: pool });
  await migratePostgres(sql);
  afterAll(() => sql.close());
  return { url, sql };
}
