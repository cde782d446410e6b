/**
 * The PostgreSQL engine's SMS queue (engine/fallback.ts), shared by every instance:
 * exactly one SMS per wamid (fallback_sends' primary key), claimed in batches with a
 * lease and a token. A claim takes the messages' locks it can get now (one another
 * transaction holds is skipped, like SKIP LOCKED), then the rows still due; a round's
 * outcomes wait for the locks and are written only where the token still holds the row,
 * so an instance that lost its lease (paused, cut off) cannot finish what another holds.
 * The tracker's moves (sweeper/tracker.ts) run on the transaction's unit of work. Each
 * transaction passes the erasure's gate first (erasure-gate.ts), as processing does.
 */
import type { SQL } from "bun";
import type { SendMoves, SendQueue } from "../../engine/fallback";
import type { PlanEvent } from "../../events/raise";
import { claimSends, finishSend } from "../send-queue";
import { FallbackUnit, sendRow } from "./fallback-unit";
import { lockMessages, tryLockMessages } from "./message-locks";
import { beforeWriting } from "./erasure-gate";
import type { ClaimedSend } from "../../domain/tracked";

export function postgresSendQueue(sql: SQL, trackerFor: (unit: FallbackUnit) => SendMoves, planEvent: PlanEvent): SendQueue & { recoverSends(instance: string): Promise<number> } {
  return {
    claim: (token, leaseUntil, now, limit) =>
      sql.begin(async (tx) => {
        await beforeWriting(tx);
        const due = await tx`
          SELECT wamid FROM fallback_sends WHERE (state = 'pending' AND next_attempt_at <= ${now}) OR (state = 'sending' AND lease_until < ${now})
          ORDER BY next_attempt_at LIMIT ${limit}`;
        const locked = await tryLockMessages(tx, due.map((r: { wamid: string }) => r.wamid));
        if (locked.length === 0) return { rows: [], refused: 0 };
        // `retaken`: the claim of a run that stopped mid-request, whose request may have reached the provider.
        const claimed = await tx`
          UPDATE fallback_sends f SET state = 'sending', attempts = f.attempts + 1, lease_token = ${token}, lease_until = ${leaseUntil}
          FROM (SELECT wamid, state AS was FROM fallback_sends WHERE wamid = ANY(${tx.array(locked, "TEXT")}::text[])) AS p
          WHERE f.wamid = p.wamid AND ((f.state = 'pending' AND f.next_attempt_at <= ${now}) OR (f.state = 'sending' AND f.lease_until < ${now}))
          RETURNING f.*, p.was = 'sending' AS retaken, (SELECT expires_at FROM tracked_messages t WHERE t.wamid = f.wamid) AS expires_at`;
        const rows: ClaimedSend[] = claimed
          .map((r: Record<string, unknown>) => ({ ...sendRow(r), expires_at: r.expires_at == null ? null : Number(r.expires_at), retaken: r.retaken ? 1 : 0 }))
          .sort((a: ClaimedSend, b: ClaimedSend) => a.next_attempt_at - b.next_attempt_at || (a.wamid < b.wamid ? -1 : 1));
        const unit = await FallbackUnit.load(tx, rows.map((r) => r.wamid), planEvent, false);
        const result = claimSends(trackerFor(unit), rows, token, now);
        await unit.flush(tx, now);
        return result;
      }) as Promise<{ rows: ClaimedSend[]; refused: number }>,

    finish: (rows, token, outcomes, now) =>
      sql.begin(async (tx) => {
        await beforeWriting(tx);
        const wamids = rows.map((r) => r.wamid);
        await lockMessages(tx, wamids);
        const unit = await FallbackUnit.load(tx, wamids, planEvent, false);
        const tracker = trackerFor(unit);
        const finished = rows.map((row, i) => finishSend(tracker, row, outcomes[i]!, now, () => unit.finishSend(row.wamid, token, outcomes[i]!, now)));
        await unit.flush(tx, now);
        return finished;
      }) as Promise<boolean[]>,

    async nextAttemptAt() {
      const [r] = await sql`SELECT min(next_attempt_at) AS at FROM fallback_sends WHERE state = 'pending'`;
      return r?.at == null ? null : Number(r.at);
    },

    /** SMS an earlier run of this instance had claimed: claimable again now (sent with the same key). */
    async recoverSends(instance) {
      return (await sql`UPDATE fallback_sends SET lease_until = 0 WHERE state = 'sending' AND starts_with(lease_token, ${`${instance}:`})`).count;
    },
  };
}
