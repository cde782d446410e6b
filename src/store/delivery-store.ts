/** Deliveries to hooks: claim due ones per hook with a lease, finalize while holding it, replay. */
import type { Database } from "bun:sqlite";
import type { EventSelection } from "../domain/selection";
import type { ClaimedDelivery, RecordedOutcome } from "../domain/delivery";
import { eventIdFloor } from "../util/ids";

/** Not finished: `done` and `cancelled` are. */
const OPEN_STATES = "('pending', 'delivering', 'dead', 'disabled')";

export function deliveryStore(db: Database) {
  // ?6: the newest delivery known to be on disk (store/durability.ts); newer ones wait for the next claim.
  const claim = db.prepare<{ id: number; event_id: string; attempts: number }, [string, number, string, number, number, number]>(
    `UPDATE deliveries SET state = 'delivering', attempts = attempts + 1, lease_token = ?1, lease_until = ?2
     WHERE id IN (SELECT id FROM (SELECT id FROM deliveries WHERE hook = ?3 AND state = 'pending' AND next_attempt_at <= ?4 AND id <= ?6
                                  ORDER BY next_attempt_at LIMIT ?5)
                  UNION ALL
                  SELECT id FROM (SELECT id FROM deliveries WHERE hook = ?3 AND state = 'delivering' AND lease_until < ?4 LIMIT ?5)
                  LIMIT ?5)
     RETURNING id, event_id, attempts`,
  );
  const envelopes = db.prepare<{ id: string; envelope: string }, [string]>("SELECT id, envelope FROM events WHERE id IN (SELECT value FROM json_each(?1))");
  // Many outcomes in one statement, each row only while its lease holds; answers the rows recorded.
  const record = db.prepare<{ id: number }, [string]>(
    `UPDATE deliveries SET state = o.value ->> 2, next_attempt_at = coalesce(o.value ->> 3, next_attempt_at), last_status = o.value ->> 4,
       last_error = o.value ->> 5, last_response = o.value ->> 6, updated_at = o.value ->> 7, lease_token = NULL, lease_until = NULL
     FROM json_each(?1) AS o WHERE deliveries.id = o.value ->> 0 AND deliveries.lease_token = o.value ->> 1
     RETURNING deliveries.id`,
  );
  // A claimed delivery never attempted (the loop stopped first): due as it was, its attempt uncounted.
  const release = db.prepare<unknown, [number, string]>(
    `UPDATE deliveries SET state = 'pending', attempts = attempts - 1, lease_token = NULL, lease_until = NULL
     WHERE id = ?1 AND lease_token = ?2`,
  );
  const requeue = db.prepare<unknown, [string, string, number, number, number]>(
    `INSERT INTO deliveries (event_id, hook, next_attempt_at, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
     ON CONFLICT (event_id, hook) DO UPDATE SET state = 'pending', attempts = 0, next_attempt_at = ?3,
       lease_token = NULL, lease_until = NULL, updated_at = ?5`,
  );
  // Only hooks the daemon runs: an orphan put back to pending would wait for a sender that never comes.
  const retryDead = db.prepare<unknown, [number, string | null]>(
    `UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?1, updated_at = ?1
     WHERE state = 'dead' AND (?2 IS NULL OR hook = ?2) AND hook IN (SELECT name FROM daemon_hooks)`,
  );
  // Only `*` reaches here as a wildcard (the CLI refuses other glob characters), so GLOB matches hook-filter globs.
  const events = db.prepare<{ id: string; type: string; phone_number_id: string | null }, [string | null, string | null, number | null, number | null, string, string, number]>(
    // An event is stored after it arrived: an id before since's (?5, a millisecond earlier) bounds the range from below; ?6 is the page's start.
    `SELECT id, type, phone_number_id FROM events
     WHERE (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR type GLOB ?2)
       AND id > max(?5, ?6) AND (?3 IS NULL OR received_at >= ?3) AND (?4 IS NULL OR received_at < ?4)
     ORDER BY id LIMIT ?7`,
  );
  const recover = db.prepare<unknown, [string, number]>(
    `UPDATE deliveries SET state = 'pending', next_attempt_at = ?2, lease_token = NULL, lease_until = NULL
     WHERE state = 'delivering' AND substr(lease_token, 1, length(?1)) = ?1`,
  );

  // Per hook, through deliveries_due: (hook, state) is its prefix.
  const cancelOpen = db.prepare<unknown, [string, number]>(
    `UPDATE deliveries SET state = 'cancelled', lease_token = NULL, lease_until = NULL, updated_at = ?2
     WHERE hook = ?1 AND state IN ${OPEN_STATES}`,
  );
  // An event the target already has a delivery of keeps that one (sent, or on its way).
  const copyOpen = db.prepare<unknown, [string, string, number]>(
    `INSERT INTO deliveries (event_id, hook, next_attempt_at, created_at, updated_at)
     SELECT event_id, ?2, ?3, ?3, ?3 FROM deliveries WHERE hook = ?1 AND state IN ${OPEN_STATES}
     ON CONFLICT (event_id, hook) DO NOTHING`,
  );

  return {
    /** Due deliveries of `hook`, up to `limit`, none newer than delivery `through` (by default, any). */
    claim(hook: string, token: string, leaseUntil: number, now: number, limit: number, through = Number.MAX_SAFE_INTEGER): ClaimedDelivery[] {
      const rows = db.transaction(() => claim.all(token, leaseUntil, hook, now, limit, through)).immediate();
      if (rows.length === 0) return [];
      const byId = new Map(envelopes.all(JSON.stringify(rows.map((r) => r.event_id))).map((e) => [e.id, e.envelope]));
      return rows.map((r) => ({ ...r, envelope: byId.get(r.event_id)! }));
    },
    /** Records attempts' outcomes, each while its lease holds; returns the ids recorded (a lost lease is skipped). */
    record(outcomes: readonly RecordedOutcome[]): Set<number> {
      if (outcomes.length === 0) return new Set();
      const rows = outcomes.map((o) => [o.id, o.token, o.outcome.state, o.outcome.state === "pending" ? o.outcome.nextAttemptAt : null, o.last.status, o.last.error, o.last.response, o.at]);
      return new Set(record.all(JSON.stringify(rows)).map((r) => r.id));
    },
    release: (id: number, token: string) => release.run(id, token).changes === 1,
    /** (Re)queues a delivery of an event to a hook: fresh attempts, due now. */
    requeue: (eventId: string, hook: string, now: number) => requeue.run(eventId, hook, now, now, now),
    /** A hook's open deliveries are cancelled (finished, never sent): how many. */
    cancelOpen: (hook: string, now: number) => cancelOpen.run(hook, now).changes,
    /** A hook's open deliveries are queued to hook `to`, due now: how many new ones. Cancel them after. */
    copyOpen: (hook: string, to: string, now: number) => copyOpen.run(hook, to, now).changes,
    /** Deliveries in flight in an earlier run of this instance are due again now. */
    recoverLeases: (instance: string, now: number) => recover.run(`${instance}:`, now).changes,
    retryDead: (now: number, hook: string | null) => retryDead.run(now, hook).changes,
    /** Up to `limit` of the selected events stored after event `after`, in the order they were stored, one at a time. */
    events: (s: EventSelection, after: string | null, limit: number) =>
      events.iterate(s.eventId, s.type, s.since, s.until, s.since === null ? "" : eventIdFloor(Math.max(0, s.since - 1)), after ?? "", limit),
  };
}
