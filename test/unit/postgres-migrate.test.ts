/**
 * The PostgreSQL engine's migrations, on a real server: embedded files and list agree;
 * three instances migrating an empty database at once migrate it once and all start; a
 * database of a newer schema is refused; ingestion's group commit stores each batch in
 * one statement and answers ids in order.
 */
import { SQL } from "bun";
import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { MigrationError } from "../../src/store/migrate";
import { migratePostgres, postgresSchemaVersion } from "../../src/store/postgres/migrate";
import { PG_LATEST_VERSION, PG_MIGRATIONS } from "../../src/store/postgres/migrations";
import { postgresInbox } from "../../src/store/postgres/inbox-store";
import { freshDatabase, migratedDatabase } from "../support/postgres";

test("every file in migrations/postgres/ is embedded, numbered in order", () => {
  const files = readdirSync(join(import.meta.dir, "../../migrations/postgres")).filter((f) => f.endsWith(".sql")).sort();
  expect(PG_MIGRATIONS.map((m) => m.name)).toEqual(files);
  expect(PG_MIGRATIONS.map((m) => m.version)).toEqual(files.map((f) => Number(f.slice(0, 4))));
});

test("three instances starting at once on an empty database: migrated once, all start", async () => {
  const url = await freshDatabase();
  const pools = [0, 1, 2].map(() => new SQL(url, { max: 2 }));
  try {
    const results = await Promise.all(pools.map((sql) => migratePostgres(sql)));
    expect(results.filter((r) => r.applied.length > 0)).toHaveLength(1);
    expect(results.map((r) => r.to)).toEqual([PG_LATEST_VERSION, PG_LATEST_VERSION, PG_LATEST_VERSION]);
    const [{ n }] = await pools[0]!`SELECT count(*)::int n FROM schema_migrations`;
    expect(n).toBe(PG_MIGRATIONS.length);
    expect(await postgresSchemaVersion(pools[1]!)).toBe(PG_LATEST_VERSION);
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
});

test("a database of a newer schema is refused, naming both versions; nothing is changed", async () => {
  const { sql } = await migratedDatabase();
  await sql`INSERT INTO schema_migrations (version, name) VALUES (${PG_LATEST_VERSION + 1}, 'from_the_future.sql')`;
  const err = await migratePostgres(sql).catch((e) => e);
  expect(err).toBeInstanceOf(MigrationError);
  expect(err.message).toContain(`version ${PG_LATEST_VERSION + 1} is newer than this binary supports (${PG_LATEST_VERSION})`);
});

test("a database holding another application's tables and no wa-webhookd schema is refused, naming them; nothing is created", async () => {
  const url = await freshDatabase();
  const sql = new SQL(url, { max: 1 });
  try {
    await sql`CREATE TABLE events (id int)`;
    await sql`CREATE TABLE contacts (id int)`;
    const err = await migratePostgres(sql).catch((e) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect(err.message).toBe("the database holds tables wa-webhookd did not make (contacts, events) and no wa-webhookd schema: give it a database of its own (an empty one is migrated at start)");
    const [{ t }] = await sql`SELECT to_regclass('schema_migrations') IS NULL AND to_regclass('inbox') IS NULL AS t`;
    expect(t).toBe(true);
  } finally {
    await sql.close();
  }
});

test("a failed migration leaves the schema as it was (DDL is transactional)", async () => {
  const url = await freshDatabase();
  const sql = new SQL(url, { max: 1 });
  try {
    const broken = [...PG_MIGRATIONS, { version: PG_LATEST_VERSION + 1, name: "broken.sql", sql: "CREATE TABLE half (x int); SELECT no_such_function();" }];
    await expect(migratePostgres(sql, broken)).rejects.toThrow();
    expect(await postgresSchemaVersion(sql)).toBe(0);
    const [{ t }] = await sql`SELECT to_regclass('inbox') IS NULL AND to_regclass('half') IS NULL AS t`;
    expect(t).toBe(true);
  } finally {
    await sql.close();
  }
});

test("a group commit is one statement: rows and bodies stored byte for byte, ids answered in request order", async () => {
  const { sql } = await migratedDatabase();
  const inbox = postgresInbox(sql, "wa-1");
  const bodies = [new TextEncoder().encode('{"object":"whatsapp_business_account"}'), new Uint8Array([0xff, 0x00, 0x7b]), new Uint8Array(0)];
  const records = bodies.map((body, i) => ({ body, signature: `sha256=${i}`, userAgent: i === 0 ? "facebookexternalua" : null, remoteAddr: "127.0.0.1", forwardedFor: null, receivedAt: 1_764_000_000_000 + i }));
  const first = await inbox.appendBatch(records);
  const second = await inbox.appendBatch(records.slice(0, 1));
  expect(first).toHaveLength(3);
  expect(first[1]! - first[0]!).toBe(1);
  expect(second[0]!).toBeGreaterThan(first[2]!);
  const rows = await sql`SELECT i.id, i.signature, i.user_agent, i.received_at::float8 AS received_at, i.parseable, i.instance, i.state, b.body FROM inbox i JOIN inbox_bodies b ON b.inbox_id = i.id ORDER BY i.id`;
  expect(rows.map((r: { id: string }) => Number(r.id))).toEqual([...first, ...second]);
  expect(rows.map((r: { signature: string }) => r.signature)).toEqual(["sha256=0", "sha256=1", "sha256=2", "sha256=0"]);
  expect(rows.map((r: { parseable: boolean }) => r.parseable)).toEqual([true, false, false, true]);
  expect(rows.map((r: { body: Uint8Array }) => [...r.body])).toEqual([...bodies.map((b) => [...b]), [...bodies[0]!]]);
  expect(rows[0]).toMatchObject({ user_agent: "facebookexternalua", received_at: 1_764_000_000_000, instance: "wa-1", state: "pending" });
  expect(await inbox.probe()).toEqual({ ready: true });
});
