/**
 * The PostgreSQL engine for the sweeper's `stale` job: batches of tracked messages past
 * their deadline, decided in pure code (sweeper/stale-plan.ts) and written as sets, one
 * transaction per batch. A message whose lock another transaction holds (its status is
 * being processed right now) is left for the next sweep rather than waited for. The outage
 * guard's state (held since when, where the last window ended) is in job_state, shared by
 * every instance.
 */
import type { SQL } from "bun";
import type { DueRow, TrackedRow } from "../../domain/tracked";
import { numbered, type SweepWrites } from "../../engine/sweeper";
import type { Raised } from "../../events/raise";
import { insertAlerts } from "./alert-queue";
import { storeRaised } from "./event-writes";
import { trackedRow, type StoredAlert } from "./fallback-unit";
import { tryLockMessages } from "./message-locks";
import { beforeWriting } from "./erasure-gate";
import type { AlertDraft } from "../../domain/alert";

type Tx = SQL;

export function postgresSweeper(sql: SQL) {
  async function write(tx: Tx, w: SweepWrites, now: number) {
    const t = (v: readonly (string | null)[]) => tx.array(v as string[], "TEXT");
    const steps: Promise<unknown>[] = [];
    if (w.decisions.length > 0) {
      const d = w.decisions;
      steps.push(tx`
        UPDATE tracked_messages m SET state = u.s, reason = u.r, error_code = u.e::int, updated_at = ${now}
        FROM unnest(${t(d.map((x) => x.wamid))}::text[], ${t(d.map((x) => x.state))}::text[], ${t(d.map((x) => x.reason))}::text[], ${tx.array(d.map((x) => x.error_code) as number[], "INT8")}::int8[]) AS u(w, s, r, e)
        WHERE m.wamid = u.w`);
    }
    if (w.moves.length > 0) {
      const m = numbered(w.moves);
      steps.push(tx`
        INSERT INTO tracked_timeline (wamid, seq, state, at, detail)
        SELECT u.w, coalesce((SELECT max(seq) FROM tracked_timeline t WHERE t.wamid = u.w), 0) + u.n, u.s, ${now}, u.d
        FROM unnest(${t(m.map((x) => x[0]))}::text[], ${tx.array(m.map((x) => x[1]), "INT4")}::int4[], ${t(m.map((x) => x[2]))}::text[], ${t(m.map((x) => x[3]))}::text[]) AS u(w, n, s, d)`);
    }
    const sends =
      w.sends.length === 0
        ? []
        : await tx`
          INSERT INTO fallback_sends (wamid, state, recipient, text, reason, error_code, category, next_attempt_at, created_at, updated_at)
          SELECT w, s, rc, tx, rs, ec::int, ca, ${now}, ${now}, ${now}
          FROM unnest(${t(w.sends.map((x) => x.wamid))}::text[], ${t(w.sends.map((x) => x.state))}::text[], ${t(w.sends.map((x) => x.recipient))}::text[],
            ${t(w.sends.map((x) => x.text))}::text[], ${t(w.sends.map((x) => x.reason))}::text[], ${tx.array(w.sends.map((x) => x.error_code) as number[], "INT8")}::int8[],
            ${t(w.sends.map((x) => x.category))}::text[]) AS u(w, s, rc, tx, rs, ec, ca)
          ON CONFLICT (wamid) DO NOTHING
          RETURNING wamid`;
    await Promise.all(steps);
    const fresh = await storeRaised(tx, raisedOf(w), now);
    return { fresh, sends: new Set<string>(sends.map((r: { wamid: string }) => r.wamid)) };
  }

  return {
    /** One batch: reads up to `limit` due messages it can lock, calls `plan` (pure), writes its decisions. */
    sweepStale<T extends { writes: SweepWrites }>(now: number, limit: number, plan: (due: readonly DueRow[]) => T) {
      return sql.begin(async (tx) => {
        await beforeWriting(tx);
        const candidates = await tx`SELECT wamid FROM tracked_messages WHERE state = 'tracked' AND deadline <= ${now} ORDER BY deadline LIMIT ${limit}`;
        const locked = await tryLockMessages(tx, candidates.map((r: { wamid: string }) => r.wamid));
        // Read again under the locks: a status committed meanwhile may have settled one.
        const due =
          locked.length === 0
            ? []
            : (
                await tx`SELECT *, EXISTS (SELECT 1 FROM tracked_timeline l WHERE l.wamid = t.wamid AND l.state = 'registered') AS registered
                         FROM tracked_messages t WHERE wamid = ANY(${tx.array(locked, "TEXT")}::text[]) AND state = 'tracked' AND deadline <= ${now} ORDER BY deadline, wamid`
              ).map((r: Record<string, unknown>) => ({ ...trackedRow(r), registered: r.registered === true }));
        const planned = plan(due);
        return { planned, ...(await write(tx, planned.writes, now)), busy: candidates.length - locked.length };
      }) as Promise<{ planned: T; fresh: Set<string>; sends: Set<string>; busy: number }>;
    },

    /** The outage guard's counts: deadlines in (from, to], and how many of those are still undelivered. */
    async deadlineWindow(from: number, to: number): Promise<{ total: number; stale: number }> {
      const [r] = await sql`
        SELECT (SELECT count(*) FROM tracked_messages WHERE deadline > ${from} AND deadline <= ${to}) AS total,
               (SELECT count(*) FROM tracked_messages WHERE state = 'tracked' AND deadline > ${from} AND deadline <= ${to}) AS stale`;
      return { total: Number(r.total), stale: Number(r.stale) };
    },

    async state(name: string): Promise<{ held_since: number | null; window_end: number | null }> {
      const [r] = await sql`SELECT held_since, window_end FROM job_state WHERE name = ${name}`;
      return { held_since: r?.held_since == null ? null : Number(r.held_since), window_end: r?.window_end == null ? null : Number(r.window_end) };
    },

    async windowEnded(name: string, at: number) {
      await sql`INSERT INTO job_state (name, window_end) VALUES (${name}, ${at}) ON CONFLICT (name) DO UPDATE SET window_end = excluded.window_end`;
    },

    /** Holds (since a time) or releases (null) every fallback; holding stores its event and alert in the same transaction. */
    setHeld(name: string, since: number | null, now: number, raised: readonly Raised[] = [], alerts: readonly { draft: AlertDraft; state: "pending" | "recorded" }[] = []): Promise<StoredAlert[]> {
      return sql.begin(async (tx) => {
        await beforeWriting(tx);
        await tx`INSERT INTO job_state (name, held_since) VALUES (${name}, ${since}) ON CONFLICT (name) DO UPDATE SET held_since = excluded.held_since`;
        await storeRaised(tx, raised, now);
        return insertAlerts(tx, alerts, now);
      }) as Promise<StoredAlert[]>;
    },
  };
}
export type PostgresSweeper = ReturnType<typeof postgresSweeper>;

/** A batch's events with the hooks each goes to, as the event writer takes them. */
function raisedOf(w: SweepWrites): Raised[] {
  const hooks = new Map<string, string[]>();
  for (const d of w.deliveries) hooks.set(d.eventId, [...(hooks.get(d.eventId) ?? []), d.hook]);
  return w.events.map((row) => ({ row, hooks: hooks.get(row.id) ?? [] }));
}
