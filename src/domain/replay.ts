/**
 * Replay, decided for both engines (pure): which hooks get which stored events again
 * (same webhook-id, fresh timestamp and signature), a page at a time. The engines queue
 * the deliveries: store/requeue-store.ts (SQLite), store/postgres/requeue-store.ts.
 */
import type { HookRoute } from "../config/schema";
import { hookFilter } from "../events/hook-filter";
import type { EventSelection } from "./selection";

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

/** Adds a page's counts to a whole replay's (both engines): the event the next page starts after, null at the end. */
export function addPage(total: ReplayResult, page: ReplayPage): string | null {
  total.events += page.events;
  for (const [hook, n] of Object.entries(page.queued)) total.queued[hook] = (total.queued[hook] ?? 0) + n;
  return page.next;
}

/** Why inbox row `id` (in `state`; null: no such row) is not processed again (both engines); null when it is dead. */
export function reprocessRefusal(id: number, state: string | null): string | null {
  if (state === null) return `no inbox row ${id}`;
  return state === "dead" ? null : `inbox row ${id} is not dead (state: ${state})`;
}
