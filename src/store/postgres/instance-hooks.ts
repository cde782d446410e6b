/**
 * The hooks each instance runs (migrations/postgres/0007), rewritten at its start and at
 * each reload. Instances may run different lists for a while (a rolling reload): a hook
 * is run while any live instance runs it, so one instance's admin API never calls
 * orphaned (and lets an operator cancel) the deliveries another instance still sends.
 */
import type { SQL } from "bun";
import type { HookRoute } from "../../config/schema";

/** The database's clock in unix ms, as instances.seen_at is written (store/postgres/instances.ts). */
const DB_NOW = "(extract(epoch FROM clock_timestamp()) * 1000)::int8";

export function instanceHooksStore(sql: SQL) {
  return {
    /** This instance's hooks now, in config order, replacing what it ran before. */
    record: (instance: string, hooks: readonly HookRoute[], now: number) =>
      sql.begin(async (tx) => {
        await tx`DELETE FROM instance_hooks WHERE instance = ${instance}`;
        if (hooks.length === 0) return;
        await tx`
          INSERT INTO instance_hooks (instance, name, position, events, phone_number_ids, recorded_at)
          SELECT ${instance}, n, p, e, ph, ${now}
          FROM unnest(${tx.array(hooks.map((h) => h.name), "TEXT")}::text[], ${tx.array(hooks.map((_, i) => i), "INT4")}::int4[],
            ${tx.array(hooks.map((h) => JSON.stringify(h.events)), "TEXT")}::text[], ${tx.array(hooks.map((h) => JSON.stringify(h.phone_number_ids)), "TEXT")}::text[]) AS t(n, p, e, ph)`;
      }),
    /** The names of the hooks live instances run (renewed within `staleMs` by the database's clock), by instance and config order. */
    async live(staleMs: number): Promise<string[]> {
      const rows = await sql.unsafe(
        `SELECT h.name FROM instance_hooks h JOIN instances i ON i.name = h.instance
         WHERE ${DB_NOW} - i.seen_at < $1 ORDER BY h.instance COLLATE "C", h.position`,
        [staleMs],
      );
      return [...new Set<string>(rows.map((r: { name: string }) => r.name))];
    },
    /** Each live instance's hooks with their filters (what a replay from the CLI queues by), by instance and config order. */
    async liveRoutes(staleMs: number): Promise<(HookRoute & { instance: string })[]> {
      const rows = await sql.unsafe(
        `SELECT h.instance, h.name, h.events, h.phone_number_ids FROM instance_hooks h JOIN instances i ON i.name = h.instance
         WHERE ${DB_NOW} - i.seen_at < $1 ORDER BY h.instance COLLATE "C", h.position`,
        [staleMs],
      );
      return rows.map((r: { instance: string; name: string; events: string; phone_number_ids: string }) => ({
        instance: r.instance,
        name: r.name,
        events: JSON.parse(r.events),
        phone_number_ids: JSON.parse(r.phone_number_ids),
      }));
    },
  };
}
