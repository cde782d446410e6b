/**
 * Replay: re-deliver stored events with the same webhook-id (the event id), a fresh
 * timestamp and signature. Deliveries are (re)queued in SQLite; the dispatcher sends them.
 * Which hooks get which events is decided here for both engines (replayTargets,
 * planReplayPage; store/postgres/requeue-store.ts queues them on PostgreSQL).
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
export const PAGE_EVENTS = 1000;

export class ReplayError extends Error {
  override name = "ReplayError";
}

/** A hook a replay may queue to, and whether it wants an event (its filters, or everything when forced). */
export interface ReplayTarget {
  name: string;
  wants: (type: string, phoneNumberId: string | null) => boolean;
}

/** The hooks a replay queues to: the named one (forced: even events its filters exclude), or every one by its filters. */
export function replayTargets(hooks: readonly HookRoute[], request: ReplayRequest): ReplayTarget[] {
  if (request.hook !== null && !hooks.some((h) => h.name === request.hook)) throw new ReplayError(`no hook named "${request.hook}"`);
  return hooks.filter((h) => request.hook === null || h.name === request.hook).map((h) => ({ name: h.name, wants: request.force ? () => true : hookFilter(h) }));
}

/** A stored event as a replay reads it. */
export interface ReplayEventRow {
  id: string;
  type: string;
  phone_number_id: string | null;
}

/**
 * A page of a replay (pure): of `events` (up to `limit` + 1, in the order stored), the
 * first `limit` each queued to the targets that want it; `next` set when one more was read.
 */
export function planReplayPage(events: Iterable<ReplayEventRow>, targets: readonly ReplayTarget[], limit: number): { page: ReplayPage; requeue: { eventId: string; hook: string }[] } {
  const page: ReplayPage = { events: 0, queued: {}, next: null };
  const requeue: { eventId: string; hook: string }[] = [];
  let last: string | null = null;
  for (const event of events) {
    if (page.events === limit) {
      page.next = last;
      break;
    }
    page.events++;
    last = event.id;
    for (const hook of targets) {
      if (!hook.wants(event.type, event.phone_number_id)) continue;
      requeue.push({ eventId: event.id, hook: hook.name });
      page.queued[hook.name] = (page.queued[hook.name] ?? 0) + 1;
    }
  }
  return { page, requeue };
}

/**
 * Queues one delivery per matching event (at most `limit` of them, stored after event
 * `after`) and interested hook, in one transaction.
 */
export function replayPage(db: Database, hooks: readonly HookRoute[], request: ReplayRequest, now: number, after: string | null, limit: number): ReplayPage {
  const targets = replayTargets(hooks, request);
  const store = deliveryStore(db);
  return db
    .transaction(() => {
      // One event past the page says whether another page follows.
      const { page, requeue } = planReplayPage(store.events(request.selection, after, limit + 1), targets, limit);
      for (const r of requeue) store.requeue(r.eventId, r.hook, now);
      if (request.selection.eventId !== null && page.events === 0) throw new ReplayError(`no event ${request.selection.eventId}`);
      return page;
    })
    .immediate();
}

/** The whole selection, a page per transaction. */
export function replayEvents(db: Database, hooks: readonly HookRoute[], request: ReplayRequest, now: number): ReplayResult {
  const total: ReplayResult = { events: 0, queued: {} };
  let after: string | null = null;
  do after = addPage(total, replayPage(db, hooks, request, now, after, PAGE_EVENTS));
  while (after !== null);
  return total;
}

/** Adds a page's counts to a whole replay's (both engines): the event the next page starts after, null at the end. */
export function addPage(total: ReplayResult, page: ReplayPage): string | null {
  total.events += page.events;
  for (const [hook, n] of Object.entries(page.queued)) total.queued[hook] = (total.queued[hook] ?? 0) + n;
  return page.next;
}

/** Dead deliveries (all hooks, or one) go back to pending with a fresh schedule. */
export function retryDeadDeliveries(db: Database, now: number, hook: string | null): number {
  return deliveryStore(db).retryDead(now, hook);
}

/** Dead inbox rows (all, or one) are processed again. A named row that is not dead is an error. */
export function reprocessDeadInbox(db: Database, inboxId: number | null): number {
  const queue = queueStore(db);
  if (inboxId === null) return queue.revive(null);
  const refused = reprocessRefusal(inboxId, queue.state(inboxId));
  if (refused !== null) throw new ReplayError(refused);
  return queue.revive(inboxId);
}

/** Why inbox row `id` (in `state`; null: no such row) is not processed again (both engines); null when it is dead. */
export function reprocessRefusal(id: number, state: string | null): string | null {
  if (state === null) return `no inbox row ${id}`;
  return state === "dead" ? null : `inbox row ${id} is not dead (state: ${state})`;
}
