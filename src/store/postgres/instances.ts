/**
 * The instances sharing a PostgreSQL database (migrations/postgres/0002): each run
 * registers under its name and renews the row every few seconds. A name whose row was
 * renewed recently belongs to a live instance, and a second one refuses to start under
 * it; a row not renewed for `staleMs` is a dead instance's, and is taken over. A restart
 * on the same host takes over its own predecessor's row at once (that process is gone).
 */
import type { SQL } from "bun";

/** An instance not renewed for this long is taken for dead (instances renew every 5 s). */
export const INSTANCE_STALE_MS = 30_000;

/** The database's clock in unix ms: instances' own clocks need not agree. */
const DB_NOW = "(extract(epoch FROM clock_timestamp()) * 1000)::int8";

export interface InstanceRow {
  name: string;
  host: string;
  pid: number;
  version: string;
  started_at: number;
  seen_at: number;
}

export interface Registration {
  name: string;
  token: string;
  host: string;
  pid: number;
  version: string;
}

export function instancesStore(sql: SQL) {
  return {
    /**
     * Registers this run. Answers null when done; else the live instance holding the name.
     * `predecessorGone(row)` says whether a row of this host is a process that no longer runs.
     */
    async register(r: Registration, staleMs: number, predecessorGone: (row: InstanceRow) => boolean): Promise<InstanceRow | null> {
      return sql.begin(async (tx) => {
        const [held] = await tx.unsafe(`SELECT name, host, pid, version, started_at::float8 AS started_at, seen_at::float8 AS seen_at, ${DB_NOW}::float8 AS now FROM instances WHERE name = $1 FOR UPDATE`, [r.name]);
        if (held && held.now - held.seen_at < staleMs && !predecessorGone(held)) return held as InstanceRow;
        await tx.unsafe(
          `INSERT INTO instances (name, token, host, pid, version, started_at, seen_at) VALUES ($1, $2, $3, $4, $5, ${DB_NOW}, ${DB_NOW})
           ON CONFLICT (name) DO UPDATE SET token = excluded.token, host = excluded.host, pid = excluded.pid, version = excluded.version,
             started_at = excluded.started_at, seen_at = excluded.seen_at`,
          [r.name, r.token, r.host, r.pid, r.version],
        );
        return null;
      });
    },
    /** Renews the row; false when another run took the name over (this one was taken for dead). */
    renew: async (name: string, token: string) => (await sql.unsafe(`UPDATE instances SET seen_at = ${DB_NOW} WHERE name = $1 AND token = $2`, [name, token])).count === 1,
    /** On a clean stop: the name is free at once. */
    leave: async (name: string, token: string) => void (await sql`DELETE FROM instances WHERE name = ${name} AND token = ${token}`),
    /** Every registered instance, with whether it is live. */
    list: async (staleMs: number) =>
      [...(await sql.unsafe(`SELECT name, host, pid, version, started_at::float8 AS started_at, seen_at::float8 AS seen_at, ${DB_NOW} - seen_at < $1 AS live FROM instances ORDER BY name`, [staleMs]))] as (InstanceRow & { live: boolean })[],
  };
}
