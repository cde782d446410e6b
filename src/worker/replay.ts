/**
 * Replay: re-deliver stored events with the same webhook-id (the event id), a fresh
 * timestamp and signature. Deliveries are (re)queued in SQLite; the dispatcher sends them.
 */
import type { Database } from "bun:sqlite";
import type { HookRoute } from "../config/schema";
import type { EventSelection } from "../domain/selection";
import { hookFilter } from "../forward/hook-filter";
import { deliveryStore } from "../store/delivery-store";
import { queueStore } from "../store/queue-store";

export interface ReplayRequest {
  selection: EventSelection;
  /** One hook by name; null: every configured hook whose filters want the event. */
  hook: string | null;
  /** With `hook`: deliver even the events that hook's filters exclude. */
  force: boolean;
}

export interface ReplayResult {
  events: number;
  /** Deliveries queued, per hook name (hooks that got none are absent). */
  queued: Record<string, number>;
}

/** One page of a replay: `next` is the last event queued when more may follow, null when the selection is exhausted. */
export interface ReplayPage extends ReplayResult {
  next: string | null;
}

/** Events per transaction of a whole replay: the daemon's own writes go between two. */
const PAGE_EVENTS = 1000;

export class ReplayError extends Error {
  override name = "ReplayError";
}

/**
 * Queues one delivery per matching event (at most `limit` of them, stored after event
 * `after`) and interested hook, in one transaction.
 */
export function replayPage(db: Database, hooks: readonly HookRoute[], request: ReplayRequest, now: number, after: string | null, limit: number): ReplayPage {
  if (request.hook !== null && !hooks.some((h) => h.name === request.hook)) throw new ReplayError(`no hook named "${request.hook}"`);
  const store = deliveryStore(db);
  const targets = hooks
    .filter((h) => request.hook === null || h.name === request.hook)
    .map((h) => ({ name: h.name, wants: request.force ? () => true : hookFilter(h) }));
  return db
    .transaction(() => {
      const result: ReplayPage = { events: 0, queued: {}, next: null };
      let last: string | null = null;
      // One event past the page says whether another page follows.
      for (const event of store.events(request.selection, after, limit + 1)) {
        if (result.events === limit) {
          result.next = last;
          break;
        }
        result.events++;
        last = event.id;
        for (const hook of targets) {
          if (!hook.wants(event.type, event.phone_number_id)) continue;
          store.requeue(event.id, hook.name, now);
          result.queued[hook.name] = (result.queued[hook.name] ?? 0) + 1;
        }
      }
      if (request.selection.eventId !== null && result.events === 0) throw new ReplayError(`no event ${request.selection.eventId}`);
      return result;
    })
    .immediate();
}

/** The whole selection, a page per transaction. */
export function replayEvents(db: Database, hooks: readonly HookRoute[], request: ReplayRequest, now: number): ReplayResult {
  const total: ReplayResult = { events: 0, queued: {} };
  let after: string | null = null;
  do {
    const page = replayPage(db, hooks, request, now, after, PAGE_EVENTS);
    total.events += page.events;
    for (const [hook, n] of Object.entries(page.queued)) total.queued[hook] = (total.queued[hook] ?? 0) + n;
    after = page.next;
  } while (after !== null);
  return total;
}

/** Dead deliveries (all hooks, or one) go back to pending with a fresh schedule. */
export function retryDeadDeliveries(db: Database, now: number, hook: string | null): number {
  return deliveryStore(db).retryDead(now, hook);
}

/** Dead inbox rows (all, or one) are processed again. A named row that is not dead is an error. */
export function reprocessDeadInbox(db: Database, inboxId: number | null): number {
  const queue = queueStore(db);
  if (inboxId === null) return queue.revive(null);
  const state = queue.state(inboxId);
  if (state === null) throw new ReplayError(`no inbox row ${inboxId}`);
  if (state !== "dead") throw new ReplayError(`inbox row ${inboxId} is not dead (state: ${state})`);
  return queue.revive(inboxId);
}
