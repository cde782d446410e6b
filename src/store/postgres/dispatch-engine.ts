/**
 * The PostgreSQL engine for dispatch (engine/dispatch.ts): a turn records the attempts
 * that finished and claims each hook's next deliveries in one transaction, committed
 * (synchronous_commit on) before anything claimed is sent. Claims skip rows another
 * instance is claiming (FOR UPDATE SKIP LOCKED); an outcome is recorded only while its
 * lease token holds, so an instance that paused past its lease cannot overwrite the
 * attempt another instance made since.
 */
import type { SQL } from "bun";
import type { ClaimedDelivery, RecordedOutcome } from "../../domain/delivery";
import type { ClaimRequest, DispatchEngine } from "../../engine/dispatch";
import type { StatKind } from "../../domain/stats";
import { addTallies } from "./stats";
import { DELIVERIES_CHANNEL } from "./wakeups";

export function postgresDispatch(sql: SQL): DispatchEngine {
  async function claim(tx: SQL, c: ClaimRequest, now: number): Promise<ClaimedDelivery[]> {
    const rows = await tx`
      WITH picked AS (
        SELECT id FROM deliveries
        WHERE hook = ${c.hook} AND ((state = 'pending' AND next_attempt_at <= ${now}) OR (state = 'delivering' AND lease_until < ${now}))
        ORDER BY next_attempt_at, id LIMIT ${c.limit} FOR UPDATE SKIP LOCKED
      )
      UPDATE deliveries d SET state = 'delivering', attempts = d.attempts + 1, lease_token = ${c.token}, lease_until = ${c.leaseUntil}
      FROM picked WHERE d.id = picked.id
      RETURNING d.id, d.event_id, d.attempts, (SELECT envelope FROM events e WHERE e.id = d.event_id) AS envelope`;
    return rows
      .map((r: { id: string; event_id: string; attempts: number; envelope: string }) => ({ id: Number(r.id), event_id: r.event_id, attempts: r.attempts, envelope: r.envelope }))
      .sort((a: ClaimedDelivery, b: ClaimedDelivery) => a.id - b.id);
  }

  /** Writes the outcomes whose lease holds, with the per-minute count of deliveries done. */
  async function record(tx: SQL, outcomes: readonly RecordedOutcome[], given?: (o: RecordedOutcome) => void): Promise<number> {
    if (outcomes.length === 0) return 0;
    const o = [...outcomes].sort((a, b) => a.id - b.id);
    const rows = await tx`
      UPDATE deliveries d SET state = o.state, next_attempt_at = coalesce(o.next, d.next_attempt_at), last_status = o.status, last_error = o.error,
        last_response = o.response, updated_at = o.at, lease_token = NULL, lease_until = NULL
      FROM unnest(${tx.array(o.map((x) => x.id), "INT8")}::int8[], ${tx.array(o.map((x) => x.token), "TEXT")}::text[], ${tx.array(o.map((x) => x.outcome.state), "TEXT")}::text[],
        ${tx.array(o.map((x) => (x.outcome.state === "pending" ? x.outcome.nextAttemptAt : null)) as number[], "INT8")}::int8[],
        ${tx.array(o.map((x) => x.last.status) as number[], "INT4")}::int4[], ${tx.array(o.map((x) => x.last.error) as string[], "TEXT")}::text[],
        ${tx.array(o.map((x) => x.last.response) as string[], "TEXT")}::text[], ${tx.array(o.map((x) => x.at), "INT8")}::int8[])
        AS o(id, token, state, next, status, error, response, at)
      WHERE d.id = o.id AND d.lease_token = o.token
      RETURNING d.id`;
    const recorded = new Set(rows.map((r: { id: string }) => Number(r.id)));
    const done: [StatKind, number, string, number][] = [];
    for (const x of outcomes) {
      if (!recorded.has(x.id)) continue; // its lease was lost: another instance has it now
      if (x.outcome.state === "done") done.push(["delivered", x.at, x.hook, 1]);
      else if (x.outcome.state === "dead" || x.outcome.state === "disabled") given?.(x);
    }
    if (done.length > 0) await addTallies(tx, done);
    return recorded.size;
  }

  return {
    turn: (outcomes, claims, now, given) =>
      sql.begin(async (tx) => {
        const recorded = await record(tx, outcomes, given);
        const claimed: ClaimedDelivery[][] = [];
        for (const c of claims) claimed.push(await claim(tx, c, now));
        return { recorded, claimed };
      }),
    flush: (outcomes, unstarted, given) =>
      sql.begin(async (tx) => {
        if (unstarted.length > 0) {
          // Claimed, never attempted (the loop stopped first): due as they were, the attempt uncounted.
          await tx`
            UPDATE deliveries d SET state = 'pending', attempts = d.attempts - 1, lease_token = NULL, lease_until = NULL
            FROM unnest(${tx.array(unstarted.map((u) => u.id), "INT8")}::int8[], ${tx.array(unstarted.map((u) => u.token), "TEXT")}::text[]) AS u(id, token)
            WHERE d.id = u.id AND d.lease_token = u.token`;
          await tx.notify(DELIVERIES_CHANNEL); // another instance may send them now
        }
        return record(tx, outcomes, given);
      }),
    async recoverLeases(instance, now) {
      const r = await sql`
        UPDATE deliveries SET state = 'pending', next_attempt_at = ${now}, lease_token = NULL, lease_until = NULL
        WHERE state = 'delivering' AND starts_with(lease_token, ${`${instance}:`})`;
      return r.count;
    },
  };
}
