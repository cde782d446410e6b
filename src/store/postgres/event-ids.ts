/**
 * Event ids for an instance on the PostgreSQL engine: `evt_` + a monotonic ULID that
 * starts after the newest id in the database. Ids keep growing within an instance; two
 * instances' ids interleave by time, not by commit (see docs/ARCHITECTURE.md).
 */
import type { SQL } from "bun";
import { monotonicUlid } from "../../util/ids";

export async function postgresEventIds(sql: SQL): Promise<(nowMs: number) => string> {
  const [{ id }] = await sql`SELECT max(id) AS id FROM events`;
  const ulid = monotonicUlid(id === null ? null : (id as string).slice("evt_".length));
  return (nowMs) => `evt_${ulid(nowMs)}`;
}
