/**
 * Replay: re-deliver stored events with the same webhook-id (the event id), a fresh
 * timestamp and signature. Deliveries are (re)queued in SQLite; the dispatcher sends them.
 */
import type { Database } from "bun:sqlite";
import type { Hook } from "../config/schema";
import { hookFilter } from "../forward/hook-filter";
import { deliveryStore } from "../store/delivery-store";
import { queueStore } from "../store/queue-store";

export interface ReplayFilter {
  eventId?: string;
  type?: string;
  since?: number; // unix ms, received_at ≥
  until?: number; // unix ms, received_at <
  /** One hook by name; default: every configured hook whose filters want the event. */
  hook?: string;
}

export class ReplayError extends Error {
  override name = "ReplayError";
}

/** Queues deliveries for the matching events; returns how many were queued. */
export function replayEvents(db: Database, hooks: readonly Hook[], filter: ReplayFilter, now: number): number {
  if (filter.hook !== undefined && !hooks.some((h) => h.name === filter.hook)) throw new ReplayError(`no hook named "${filter.hook}"`);
  const store = deliveryStore(db);
  const targets = hooks.map((h) => ({ name: h.name, wants: hookFilter(h) }));
  return db
    .transaction(() => {
      const events = store.events(filter);
      if (filter.eventId !== undefined && events.length === 0) throw new ReplayError(`no event ${filter.eventId}`);
      let queued = 0;
      for (const event of events) {
        for (const hook of targets) {
          const chosen = filter.hook !== undefined ? hook.name === filter.hook : hook.wants(event.type, event.phone_number_id);
          if (!chosen) continue;
          store.requeue(event.id, hook.name, now);
          queued++;
        }
      }
      return queued;
    })
    .immediate();
}

/** Dead deliveries (all hooks, or one) go back to pending with a fresh schedule. */
export function retryDeadDeliveries(db: Database, now: number, hook?: string): number {
  return deliveryStore(db).retryDead(now, hook ?? null);
}

/** Dead inbox rows (all, or one) are processed again. */
export function reprocessDeadInbox(db: Database, inboxId?: number): number {
  return queueStore(db).revive(inboxId);
}
