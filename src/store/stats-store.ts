/**
 * Counts per minute (migration 0009): written beside what they count, in the same
 * transaction; read by GET /v1/stats as sums over a time range of one kind.
 */
import type { Database } from "bun:sqlite";
import type { StatKind } from "../domain/stats";

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
  const write = (kind: StatKind, atMs: number, key: string, n = 1) => void add.run(kind, minuteOf(atMs), key, n);
  return {
    /** Counts `n` more of (kind, key) at time `atMs`; the caller's transaction commits it. */
    add: write,
    /**
     * Counts kept in memory during a transaction and written by `flush` before it
     * commits: one row write per (kind, minute, key) instead of one per event. `mark` and
     * `undo` drop what a rolled-back savepoint counted.
     */
    tally() {
      const pending: [StatKind, number, string][] = [];
      return {
        add: (kind: StatKind, atMs: number, key: string) => void pending.push([kind, atMs, key]),
        mark: () => pending.length,
        undo: (mark: number) => void (pending.length = mark),
        flush() {
          const sums = new Map<string, { kind: StatKind; at: number; key: string; n: number }>();
          for (const [kind, at, key] of pending) {
            const id = `${kind}\u0000${minuteOf(at)}\u0000${key}`;
            const s = sums.get(id);
            if (s) s.n++;
            else sums.set(id, { kind, at, key, n: 1 });
          }
          for (const s of sums.values()) write(s.kind, s.at, s.key, s.n);
          pending.length = 0;
        },
      };
    },
    /** Sums per key since `sinceMs`. */
    since: (kind: StatKind, sinceMs: number): Record<string, number> => Object.fromEntries(sums.all(kind, minuteOf(sinceMs)).map((r) => [r.key, r.n])),
    /** Sums per UTC day and key since `sinceMs`, newest day first. */
    byDay: (kind: StatKind, sinceMs: number) => byDay.all(kind, minuteOf(sinceMs)),
    /** Drops counts older than `beforeMs` (the retention job). */
    prune: (beforeMs: number) => prune.run(minuteOf(beforeMs)).changes,
  };
}
