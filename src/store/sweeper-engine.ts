/**
 * The SQLite engine for the sweeper's stale batches (engine/sweeper.ts): one IMMEDIATE
 * transaction per batch; each list goes in as one JSON parameter (`json_each`), so one
 * statement writes a table for the whole batch.
 */
import type { Database } from "bun:sqlite";
import type { DueRow, TrackedRow } from "../domain/tracked";
import { numbered, type SweeperEngine, type SweepWrites } from "../engine/sweeper";
import { durability } from "./durability";
import { eventStore } from "./event-store";

export function sqliteSweeper(db: Database): SweeperEngine {
  const events = eventStore(db);
  const due = db.prepare<TrackedRow & { registered: 0 | 1 }, [number, number]>(
    `SELECT *, EXISTS (SELECT 1 FROM tracked_timeline l WHERE l.wamid = tracked_messages.wamid AND l.state = 'registered') AS registered
     FROM tracked_messages WHERE state = 'tracked' AND deadline <= ? ORDER BY deadline LIMIT ?`,
  );
  // Only the columns a decision changes: the deadline indexes are left alone.
  const decide = db.prepare<unknown, [string, number]>(
    `UPDATE tracked_messages SET state = j.value ->> 1, reason = j.value ->> 2, error_code = j.value ->> 3, updated_at = ?2
     FROM json_each(?1) j WHERE tracked_messages.wamid = j.value ->> 0`,
  );
  // Numbered after each message's last move; SQLite reads every max(seq) before it inserts (the SELECT reads the table it writes).
  const note = db.prepare<unknown, [string, number]>(
    `INSERT INTO tracked_timeline (wamid, seq, state, at, detail)
     SELECT j.value ->> 0, coalesce((SELECT max(seq) FROM tracked_timeline t WHERE t.wamid = j.value ->> 0), 0) + (j.value ->> 1), j.value ->> 2, ?2, j.value ->> 3
     FROM json_each(?1) j`,
  );
  const addSends = db.prepare<{ wamid: string }, [string, number]>(
    `INSERT INTO fallback_sends (wamid, state, recipient, text, reason, error_code, category, next_attempt_at, created_at, updated_at)
     SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5, j.value ->> 6, ?2, ?2, ?2 FROM json_each(?1) j WHERE true
     ON CONFLICT (wamid) DO NOTHING RETURNING wamid`,
  );

  function write(w: SweepWrites, now: number) {
    if (w.decisions.length > 0) decide.run(JSON.stringify(w.decisions.map((d) => [d.wamid, d.state, d.reason, d.error_code])), now);
    if (w.moves.length > 0) note.run(JSON.stringify(numbered(w.moves)), now);
    const sends = w.sends.length === 0 ? [] : addSends.all(JSON.stringify(w.sends.map((s) => [s.wamid, s.state, s.recipient, s.text, s.reason, s.error_code, s.category])), now);
    const fresh = events.claimDedupKeys(w.events.map((e) => ({ id: e.id, key: e.dedupKey })), now);
    for (const e of w.events) if (fresh.has(e.id)) events.insertEvent(e);
    events.insertDeliveries(w.deliveries.filter((d) => fresh.has(d.eventId)), now);
    return { fresh, sends: new Set(sends.map((s) => s.wamid)) };
  }

  const sweep = db.transaction((now: number, limit: number, plan: (due: readonly DueRow[]) => { writes: SweepWrites }) => {
    const planned = plan(due.all(now, limit).map((r) => ({ ...r, registered: r.registered === 1 })));
    return { planned, ...write(planned.writes, now) };
  });

  const { relaxed } = durability(db);

  return {
    // Without an fsync: decisions lost to a power cut are made again by the next sweep (the
    // messages are still tracked and overdue), and an SMS or a hook's POST only leaves after
    // a commit that does fsync (the sender's claim, the dispatcher's turn: store/durability.ts).
    sweepStale: (now, limit, plan) => relaxed(() => sweep.immediate(now, limit, plan)) as never,
  };
}
