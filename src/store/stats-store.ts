/**
 * Counts per minute (migration 0009): written beside what they count, in the same
 * transaction; read by GET /v1/stats as sums over a time range of one kind.
 */
import type { Database } from "bun:sqlite";

export type StatKind = "event" | "duplicate" | "status" | "failed" | "billable" | "delivered";

export const minuteOf = (ms: number) => Math.floor(ms / 60_000);

export function statsStore(db: Database) {
  const add = db.prepare<unknown, [StatKind, number, string, number]>(
    "INSERT INTO stats_by_minute (kind, minute, key, n) VALUES (?, ?, ?, ?) ON CONFLICT (kind, minute, key) DO UPDATE SET n = n + excluded.n",
  );
  const sums = db.prepare<{ key: string; n: number }, [StatKind, number]>("SELECT key, sum(n) n FROM stats_by_minute WHERE kind = ? AND minute >= ? GROUP BY key");
  const byDay = db.prepare<{ day: string; key: string; n: number }, [StatKind, number]>(
    "SELECT date(minute * 60, 'unixepoch') day, key, sum(n) n FROM stats_by_minute WHERE kind = ? AND minute >= ? GROUP BY 1, 2 ORDER BY 1 DESC, 2",
  );
  const prune = db.prepare<unknown, [number]>("DELETE FROM stats_by_minute WHERE minute < ?");
  return {
    /** Counts `n` more of (kind, key) at time `atMs`; the caller's transaction commits it. */
    add: (kind: StatKind, atMs: number, key: string, n = 1) => void add.run(kind, minuteOf(atMs), key, n),
    /** Sums per key since `sinceMs`. */
    since: (kind: StatKind, sinceMs: number): Record<string, number> => Object.fromEntries(sums.all(kind, minuteOf(sinceMs)).map((r) => [r.key, r.n])),
    /** Sums per UTC day and key since `sinceMs`, newest day first. */
    byDay: (kind: StatKind, sinceMs: number) => byDay.all(kind, minuteOf(sinceMs)),
    /** Drops counts older than `beforeMs` (the retention job). */
    prune: (beforeMs: number) => prune.run(minuteOf(beforeMs)).changes,
  };
}
