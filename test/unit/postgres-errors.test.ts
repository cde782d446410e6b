/**
 * PostgreSQL's failures classified as the webhook and the worker need them (store/errors.ts):
 * every kind of "not stored" is storage trouble (503, retried), a mistake in our own SQL is
 * a bug. The errors are real, from a real server.
 */
import { SQL } from "bun";
import { expect, test } from "bun:test";
import { isStorageFailure, toStorageError } from "../../src/store/errors";
import { openPostgres } from "../../src/store/postgres/connect";
import { postgresInbox } from "../../src/store/postgres/inbox-store";
import { closedPort } from "../support/sink";
import { migratedDatabase } from "../support/postgres";

const failure = (p: Promise<unknown>) => p.then(() => { throw new Error("did not fail"); }, (err: unknown) => err);

test("unreachable, locked past lock_timeout, read-only, connection killed: storage trouble of the right kind", async () => {
  const { url, sql } = await migratedDatabase();
  const refused = new SQL(`postgres://postgres@127.0.0.1:${closedPort()}/x`, { connectionTimeout: 1, max: 1 });
  const gone = await failure(refused`SELECT 1`);
  expect(isStorageFailure(gone)).toBe(true);
  expect(toStorageError(gone).kind).toBe("gone");

  const impatient = openPostgres({ url, pool: 1, lockTimeoutMs: 100, instance: "wa-1" });
  const holder = await sql.reserve();
  try {
    await holder`BEGIN`;
    await holder`LOCK TABLE inbox IN ACCESS EXCLUSIVE MODE`;
    const locked = await failure(impatient`INSERT INTO health_probe (id, probed_at) SELECT 1, count(*) FROM inbox`);
    expect(toStorageError(locked)).toMatchObject({ kind: "busy" });
    // Readiness too: a locked inbox turns webhooks away (503), so /readyz says not ready.
    expect(await postgresInbox(impatient, "wa-1").probe()).toMatchObject({ ready: false, reason: expect.stringMatching(/^postgres busy/) });
    await holder`ROLLBACK`;
  } finally {
    holder.release();
  }

  const readonly = await failure(sql.begin(async (tx) => (await tx`SET TRANSACTION READ ONLY`, await tx`INSERT INTO health_probe VALUES (1, 1)`)));
  expect(toStorageError(readonly).kind).toBe("readonly");

  const [{ pid }] = await impatient`SELECT pg_backend_pid() AS pid`;
  await sql`SELECT pg_terminate_backend(${pid})`;
  // The next query either meets the dead connection (storage trouble, retried) or a new one the pool opened.
  const next = await impatient`SELECT 1 AS one`.then((rows) => [...rows], (err: unknown) => err);
  if (next instanceof Error) expect(isStorageFailure(next)).toBe(true);
  else expect(next).toEqual([{ one: 1 }]);
  expect([...(await impatient`SELECT 1 AS one`)]).toEqual([{ one: 1 }]);
  await Promise.all([impatient.close(), refused.close()]);
});

test("our own SQL breaking a constraint, or not parsing, is a bug: not storage trouble", async () => {
  const { sql } = await migratedDatabase();
  await sql`INSERT INTO health_probe VALUES (1, 1)`;
  expect(isStorageFailure(await failure(sql`INSERT INTO health_probe VALUES (1, 2)`))).toBe(false);
  expect(isStorageFailure(await failure(sql`SELEC 1`))).toBe(false);
  expect(isStorageFailure(await failure(sql`SELECT * FROM no_such_table`))).toBe(false);
});
