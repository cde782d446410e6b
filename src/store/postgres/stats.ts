/** Per-minute counts on the PostgreSQL engine (the rows every instance adds to). */
import type { SQL } from "bun";
import type { StatKind } from "../../domain/stats";
import { minuteOf } from "../stats-store";

/** Per-minute counts summed per row first, written in key order (rows shared by every instance). */
export function addTallies(tx: SQL, tallies: readonly (readonly [StatKind, number, string, number])[]) {
  const sums = new Map<string, { kind: string; minute: number; key: string; n: number }>();
  for (const [kind, at, key, count] of tallies) {
    const id = `${kind}\u0000${minuteOf(at)}\u0000${key}`;
    const s = sums.get(id);
    if (s) s.n += count;
    else sums.set(id, { kind, minute: minuteOf(at), key, n: count });
  }
  const rows = [...sums.values()];
  return tx`
    INSERT INTO stats_by_minute (kind, minute, key, n)
    SELECT k, m, y, c FROM unnest(${tx.array(rows.map((r) => r.kind), "TEXT")}::text[], ${tx.array(rows.map((r) => r.minute), "INT8")}::int8[],
      ${tx.array(rows.map((r) => r.key), "TEXT")}::text[], ${tx.array(rows.map((r) => r.n), "INT8")}::int8[]) AS t(k, m, y, c)
    ORDER BY k, m, y
    ON CONFLICT (kind, minute, key) DO UPDATE SET n = stats_by_minute.n + excluded.n`;
}
