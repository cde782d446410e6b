/** Read-side queries of the admin API's queue lists: deliveries and inbox rows, newest first. */
import type { Database } from "bun:sqlite";

export interface DeliveryListRow {
  id: number;
  event_id: string;
  event_type: string;
  hook: string;
  state: string;
  attempts: number;
  next_attempt_at: number;
  last_status: number | null;
  last_error: string | null;
  last_response: string | null;
  created_at: number;
  updated_at: number;
}

export interface InboxListRow {
  id: number;
  received_at: number;
  state: string;
  attempts: number;
  last_error: string | null;
  processed_at: number | null;
  parseable: number;
  bytes: number;
  body: Uint8Array;
}

export function inspectStore(db: Database) {
  // One hook at a time, through the dispatcher's own (hook, state, …) index: no index
  // of its own on a table whose rows change state three times each.
  const deliveries = db.prepare<DeliveryListRow, [string, string | null, number | null, number]>(
    `SELECT d.id, d.event_id, e.type AS event_type, d.hook, d.state, d.attempts, d.next_attempt_at, d.last_status, d.last_error,
            d.last_response, d.created_at, d.updated_at
     FROM deliveries d INDEXED BY deliveries_due JOIN events e ON e.id = d.event_id
     WHERE d.hook = ?1 AND (?2 IS NULL OR d.state = ?2) AND (?3 IS NULL OR d.id < ?3)
     ORDER BY d.id DESC LIMIT ?4`,
  );
  const inbox = db.prepare<InboxListRow, [string, number | null, number]>(
    `SELECT i.id, i.received_at, i.state, i.attempts, i.last_error, i.processed_at, i.parseable, length(b.body) AS bytes, b.body
     FROM inbox i JOIN inbox_bodies b ON b.inbox_id = i.id
     WHERE i.state = ?1 AND (?2 IS NULL OR i.id < ?2) ORDER BY i.id DESC LIMIT ?3`,
  );
  const retryOne = db.prepare<{ state: string }, [number, number]>(
    `UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?2, updated_at = ?2, lease_token = NULL, lease_until = NULL
     WHERE id = ?1 AND state IN ('dead', 'disabled') RETURNING state`,
  );
  const deliveryState = db.prepare<{ state: string; hook: string }, [number]>("SELECT state, hook FROM deliveries WHERE id = ?");
  // The next hook name in deliveries_due: one index seek per hook, however many deliveries each has.
  const nextHook = db.prepare<{ hook: string | null }, [string]>("SELECT min(hook) hook FROM deliveries INDEXED BY deliveries_due WHERE hook > ?");
  return {
    /** Newest first across the given hooks, in any of `states` (null: every state). */
    deliveries: (hooks: readonly string[], states: readonly string[] | null, before: number | null, limit: number) =>
      hooks
        .flatMap((hook) => (states ?? [null]).flatMap((state) => deliveries.all(hook, state, before, limit)))
        .sort((a, b) => b.id - a.id)
        .slice(0, limit),
    inbox: (state: string, before: number | null, limit: number) => inbox.all(state, before, limit),
    /** Every hook name that has deliveries, configured now or not, by name. */
    hooksWithDeliveries(): string[] {
      const names: string[] = [];
      for (let next = nextHook.get("")?.hook; next != null; next = nextHook.get(next)?.hook) names.push(next);
      return names;
    },
    delivery: (id: number) => deliveryState.get(id) ?? null,
    /** A dead (or disabled-hook) delivery goes back to pending; the delivery's state otherwise, or null if none. */
    retryDelivery(id: number, now: number): { retried: boolean; state: string | null } {
      if (retryOne.get(id, now)) return { retried: true, state: "pending" };
      return { retried: false, state: deliveryState.get(id)?.state ?? null };
    },
  };
}
