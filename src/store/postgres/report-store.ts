/** Queue depths on the PostgreSQL engine, for /metrics and /v1/stats (shared by every instance: the same on each). */
import type { SQL } from "bun";

export function postgresReport(sql: SQL) {
  return {
    /** Inbox rows not done, by state. */
    async inbox(): Promise<Record<string, number>> {
      const rows = await sql`SELECT state, count(*)::float8 AS n FROM inbox WHERE state <> 'done' GROUP BY state`;
      return Object.fromEntries(rows.map((r: { state: string; n: number }) => [r.state, r.n]));
    },
    /** Deliveries not finished, by hook and state. */
    async openDeliveries(): Promise<Record<string, Record<string, number>>> {
      const rows = await sql`SELECT hook, state, count(*)::float8 AS n FROM deliveries WHERE state IN ('pending', 'delivering', 'dead', 'disabled') GROUP BY hook, state`;
      const out: Record<string, Record<string, number>> = {};
      for (const r of rows as { hook: string; state: string; n: number }[]) (out[r.hook] ??= {})[r.state] = r.n;
      return out;
    },
    /** Tracked messages not done, by state (SQLite keeps these counts by trigger; here they are counted). */
    async tracked(): Promise<Record<string, number>> {
      const rows = await sql`SELECT state, count(*)::float8 AS n FROM tracked_messages WHERE state <> 'done' GROUP BY state`;
      return Object.fromEntries(rows.map((r: { state: string; n: number }) => [r.state, r.n]));
    },
    /** Tracked messages whose deadline passed that no sweep has decided yet (the outage guard holding them, or the next sweep's). */
    async overdue(now: number): Promise<number> {
      const [row] = await sql`SELECT count(*)::float8 AS n FROM tracked_messages WHERE state = 'tracked' AND deadline <= ${now}`;
      return (row as { n: number }).n;
    },
    /** SMS fallback rows, by state. */
    async sms(): Promise<Record<string, number>> {
      const rows = await sql`SELECT state, count(*)::float8 AS n FROM fallback_sends GROUP BY state`;
      return Object.fromEntries(rows.map((r: { state: string; n: number }) => [r.state, r.n]));
    },
  };
}
