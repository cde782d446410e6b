/**
 * The PostgreSQL engine's database for the operator commands that read or run on it
 * (`tail`, `stats`, `jobs`): a small pool of their own beside the running instances. Like
 * SQLite's openExisting, they never create or migrate the schema: an empty database or
 * one of another version is an error naming storage.url, because it almost always means
 * the wrong --config or the wrong binary.
 */
import type { SQL } from "bun";
import { hostname } from "node:os";
import { maskUrlCredentials } from "../config/load";
import { parseDuration } from "../config/duration";
import type { OperatorConfig } from "../config/schema";
import { openPostgres } from "../store/postgres/connect";
import { postgresSchemaVersion } from "../store/postgres/migrate";
import { PG_LATEST_VERSION } from "../store/postgres/migrations";
import { OperatorError } from "./operator";

export async function openPostgresExisting(config: OperatorConfig, command: string): Promise<SQL> {
  const url = config.storage.url!;
  const where = maskUrlCredentials(url);
  // Named in pg_stat_activity as what it is, never as one of the instances.
  const sql = openPostgres({ url, pool: 2, lockTimeoutMs: parseDuration(config.storage.lock_timeout)!, instance: `${command} ${hostname()}:${process.pid}` });
  let version: number;
  try {
    version = await postgresSchemaVersion(sql);
  } catch (err) {
    await sql.close().catch(() => {});
    throw new OperatorError(`storage.url: cannot reach ${where}: ${(err as Error).message}`);
  }
  if (version !== PG_LATEST_VERSION) {
    await sql.close().catch(() => {});
    const found = version === 0 ? "holds no wa-webhookd schema (an instance creates it at its first start; is --config the instances' config?)" : `has schema version ${version}, this binary expects ${PG_LATEST_VERSION}; start an instance of this release on it first`;
    throw new OperatorError(`storage.url: ${where} ${found}`);
  }
  return sql;
}
