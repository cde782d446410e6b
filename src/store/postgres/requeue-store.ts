/**
 * Putting work back on the PostgreSQL engine: a range of events replayed a page at a
 * time (POST /v1/replay, `replay`), dead deliveries retried (POST /v1/deliveries/retry,
 * `retry-dead`), the deliveries of hooks no live instance runs counted, cancelled or
 * moved (POST /v1/deliveries/orphaned, `orphans`) and dead webhooks processed again
 * (`reprocess`), with the same pages, counts and refusals as
 * SQLite's (store/requeue-store.ts; domain/replay.ts and domain/orphans.ts decide, in pure code, for both). Each
 * in one transaction, which an erasure does not interleave with (erasure-gate.ts): an
 * event it deletes is never queued again half-way.
 */
import type { SQL } from "bun";
import { OPEN_DELIVERY_STATES } from "../../domain/delivery";
import type { EventSelection } from "../../domain/selection";
import { eventIdFloor } from "../../util/ids";
import { beforeWriting } from "./erasure-gate";
import { DELIVERIES_CHANNEL, INBOX_CHANNEL } from "./wakeups";
import { planReplayPage, type ReplayPage, type ReplayTarget } from "../../domain/replay";
import type { OrphanAction, OrphansResolved } from "../../domain/orphans";

type Tx = SQL;

/** A type glob as LIKE: only `*` is a wildcard (admin/params.ts refuses a glob that matches no type). */
const likePattern = (glob: string) => glob.replace(/[\\%_]/g, "\\$&").replaceAll("*", "%");

/** Events of the selection stored after `after` (event ids, in the order stored), as SQLite's deliveryStore.events reads them. */
async function selected(tx: Tx, s: EventSelection, after: string | null, limit: number) {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const add = (cond: (n: number) => string, p: string | number) => (params.push(p), where.push(cond(params.length)));
  // An event is stored after it arrived: an id before since's (a millisecond earlier) bounds the range from below.
  add((n) => `id > $${n}`, [s.since === null ? "" : eventIdFloor(Math.max(0, s.since - 1)), after ?? ""].reduce((a, b) => (a > b ? a : b)));
  if (s.eventId !== null) add((n) => `id = $${n}`, s.eventId);
  if (s.type !== null) add((n) => `type LIKE $${n}`, likePattern(s.type));
  if (s.since !== null) add((n) => `received_at >= $${n}`, s.since);
  if (s.until !== null) add((n) => `received_at < $${n}`, s.until);
  return [...(await tx.unsafe(`SELECT id, type, phone_number_id FROM events WHERE ${where.join(" AND ")} ORDER BY id LIMIT ${limit}`, params))] as {
    id: string;
    type: string;
    phone_number_id: string | null;
  }[];
}

/** (Re)queues each (event, hook): fresh attempts, due now, the same webhook-id. */
async function requeue(tx: Tx, pairs: readonly { eventId: string; hook: string }[], now: number) {
  if (pairs.length === 0) return;
  await tx`
    INSERT INTO deliveries (event_id, hook, next_attempt_at, created_at, updated_at)
    SELECT e, h, ${now}, ${now}, ${now} FROM unnest(${tx.array(pairs.map((p) => p.eventId), "TEXT")}::text[], ${tx.array(pairs.map((p) => p.hook), "TEXT")}::text[]) AS t(e, h)
    ON CONFLICT (event_id, hook) DO UPDATE SET state = 'pending', attempts = 0, next_attempt_at = ${now}, lease_token = NULL, lease_until = NULL, updated_at = ${now}`;
  await tx.notify(DELIVERIES_CHANNEL);
}

export function postgresRequeue(sql: SQL) {
  const open = sql.array([...OPEN_DELIVERY_STATES], "TEXT");
  return {
    /** One page of a replay: at most `limit` events after `after`, each queued to the targets that want it. */
    replayPage: (selection: EventSelection, targets: readonly ReplayTarget[], after: string | null, limit: number, now: number): Promise<ReplayPage> =>
      sql.begin(async (tx) => {
        await beforeWriting(tx);
        // One event past the page says whether another page follows.
        const { page, requeue: pairs } = planReplayPage(await selected(tx, selection, after, limit + 1), targets, limit);
        await requeue(tx, pairs, now);
        return page;
      }) as Promise<ReplayPage>,
    /**
     * Cancels (or moves to `request.to`, then cancels) the open deliveries of hooks not
     * among `running`, of one hook or all; `refuse(orphans)` may say why not instead.
     */
    resolveOrphans: (running: readonly string[], hook: string | null, request: OrphanAction, refuse: (orphans: string[]) => string | null, now: number) =>
      sql.begin(async (tx) => {
        await beforeWriting(tx);
        const orphans = (
          await tx`SELECT DISTINCT hook COLLATE "C" AS hook FROM deliveries WHERE state = ANY(${open}::text[]) AND NOT hook = ANY(${tx.array([...running], "TEXT")}::text[]) ORDER BY 1`
        ).map((r: { hook: string }) => r.hook);
        const refused = refuse(orphans);
        if (refused !== null) return { refused };
        const result: OrphansResolved = { cancelled: {}, moved_to: request.action === "move" ? request.to : null, queued: 0 };
        for (const name of hook === null ? orphans : [hook]) {
          if (request.action === "move") result.queued += await copyOpen(tx, name, request.to, now);
          result.cancelled[name] = (
            await tx`UPDATE deliveries SET state = 'cancelled', lease_token = NULL, lease_until = NULL, updated_at = ${now} WHERE hook = ${name} AND state = ANY(${open}::text[])`
          ).count;
        }
        if (result.queued > 0) await tx.notify(DELIVERIES_CHANNEL);
        return result;
      }) as Promise<OrphansResolved | { refused: string }>,
    /** Every dead delivery of `hooks` due again now, from a fresh schedule (SQLite's deliveryStore.retryDead): how many. */
    retryDead: (hooks: readonly string[], now: number) =>
      sql.begin(async (tx) => {
        await beforeWriting(tx);
        const retried = (
          await tx`UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ${now}, updated_at = ${now}, lease_token = NULL, lease_until = NULL
                   WHERE hook = ANY(${tx.array([...hooks], "TEXT")}::text[]) AND state = 'dead'`
        ).count;
        if (retried > 0) await tx.notify(DELIVERIES_CHANNEL);
        return retried;
      }) as Promise<number>,
    /** Open deliveries per hook and state, for hooks not among `running` (SQLite's store/requeue-store.ts orphanedCounts, in its order). */
    async orphaned(running: readonly string[]): Promise<Record<string, Record<string, number>>> {
      const rows = await sql`
        SELECT hook, state, count(*)::int AS n FROM deliveries WHERE state = ANY(${open}::text[]) AND NOT hook = ANY(${sql.array([...running], "TEXT")}::text[])
        GROUP BY hook, state ORDER BY hook COLLATE "C", state COLLATE "C"`;
      const counts: Record<string, Record<string, number>> = {};
      for (const r of rows as { hook: string; state: string; n: number }[]) (counts[r.hook] ??= {})[r.state] = r.n;
      return counts;
    },
    /** Every dead webhook processed again, attempts from zero (SQLite's queueStore.revive(null)): how many. */
    async reprocessDead(): Promise<number> {
      const revived = (await sql`UPDATE inbox SET state = 'pending', attempts = 0, last_error = NULL WHERE state = 'dead'`).count;
      if (revived > 0) await sql.notify(INBOX_CHANNEL);
      return revived;
    },
  };

  /** A hook's open deliveries queued to hook `to`, due now: how many new ones (an event `to` already has keeps its delivery). */
  async function copyOpen(tx: Tx, hook: string, to: string, now: number): Promise<number> {
    const r = await tx`
      INSERT INTO deliveries (event_id, hook, next_attempt_at, created_at, updated_at)
      SELECT event_id, ${to}, ${now}, ${now}, ${now} FROM deliveries WHERE hook = ${hook} AND state = ANY(${open}::text[]) ORDER BY id
      ON CONFLICT (event_id, hook) DO NOTHING`;
    return r.count;
  }
}
