/**
 * What the sweeper's `stale` job asks of a storage engine, a batch at a time: read the
 * tracked messages past their deadline, let the sweeper decide each in pure code
 * (sweeper/stale-plan.ts), write the decisions as sets, all in one transaction.
 * store/sweeper-engine.ts is the SQLite engine.
 */
import type { DueRow, TrackedRow } from "../domain/tracked";
import type { EventRow } from "../events/event-row";

export interface SweeperEngine {
  /**
   * One transaction: reads up to `limit` tracked messages whose deadline is at or before
   * `now` (earliest first), calls `plan` (pure) with them, writes its `writes`. Returns
   * the plan, the ids of the events that were new (an event whose dedup key was seen
   * before is not stored again) and the wamids that got an SMS row.
   */
  sweepStale<T extends { writes: SweepWrites }>(now: number, limit: number, plan: (due: readonly DueRow[]) => T): { planned: T; fresh: ReadonlySet<string>; sends: ReadonlySet<string> };
}

/** A stale batch's decisions: the engine only stores them. */
export interface SweepWrites {
  /** The columns a fallback decision changes (sweeper/transitions.ts decideFallback), per message. */
  decisions: Pick<TrackedRow, "wamid" | "state" | "reason" | "error_code">[];
  /** Timeline moves, in order; the engine numbers them after the message's last one. */
  moves: { wamid: string; state: string; detail: string | null }[];
  /** SMS rows to make: at most one per wamid ever (a wamid that has one keeps it). */
  sends: { wamid: string; state: "pending" | "shadow"; recipient: string; text: string; reason: string; error_code: number | null; category: string | null }[];
  /** Events raised, in id order; each stored only if its dedup key is new, with its deliveries. */
  events: EventRow[];
  deliveries: { eventId: string; hook: string }[];
}

/** [wamid, position among the batch's moves of that wamid (from 1), state, detail]. */
export function numbered(moves: SweepWrites["moves"]): [string, number, string, string | null][] {
  const seen = new Map<string, number>();
  return moves.map((m) => {
    const n = (seen.get(m.wamid) ?? 0) + 1;
    seen.set(m.wamid, n);
    return [m.wamid, n, m.state, m.detail];
  });
}
