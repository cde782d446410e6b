/**
 * Events the daemon raises itself (the sweeper's message.stale, message.fallback,
 * fallback.held): no webhook behind them, so no inbox row and `raw` is null. Stored,
 * deduplicated and routed to hooks by the same event store as normalized events, in
 * the caller's transaction.
 */
import type { Database } from "bun:sqlite";
import type { HookRoute } from "../config/schema";
import type { EventRow } from "../engine/processing";
import { hookFilter } from "../forward/hook-filter";
import { eventStore } from "../store/event-store";
import { eventIds } from "../store/event-ids";
import type { EventEnvelope } from "./envelope";
import { eventSubject } from "./subject";
import type { EventType } from "./types";

export type RaiseEvent = (type: EventType, data: Record<string, unknown>, dedupKey: string, now: number, phoneNumberId?: string | null) => string | null;

/** A raised event as stored, and the hooks it goes to; whether it is stored is the dedup key's to say. */
export interface Raised {
  row: EventRow;
  hooks: string[];
}

/** Makes raised events (ids in the order asked) without storing them: for callers that store a batch of them at once. */
export type PlanEvent = (type: EventType, data: Record<string, unknown>, dedupKey: string, now: number, phoneNumberId?: string | null) => Raised;

/** `eventId`: the engine's id source (store/event-ids.ts, store/postgres/event-ids.ts). */
export function eventPlanner(eventId: (nowMs: number) => string, hooks: readonly HookRoute[]): PlanEvent {
  const routes = hooks.map((h) => ({ name: h.name, wants: hookFilter(h) }));
  return (type, data, dedupKey, now, phoneNumberId = null) => {
    const id = eventId(now);
    const at = new Date(now).toISOString();
    const envelope: EventEnvelope = { id, type, timestamp: at, received_at: at, waba_id: null, phone_number_id: phoneNumberId, display_phone_number: null, data, raw: null };
    const row: EventRow = { id, inboxId: null, type, occurredAt: now, receivedAt: now, wabaId: null, phoneNumberId, dedupKey, ...eventSubject(type, data), envelope: JSON.stringify(envelope) };
    return { row, hooks: routes.filter((r) => r.wants(type, phoneNumberId)).map((r) => r.name) };
  };
}

export function eventRaiser(db: Database, hooks: readonly HookRoute[]): RaiseEvent {
  const plan = eventPlanner(eventIds(db), hooks);
  const events = eventStore(db);
  return (type, data, dedupKey, now, phoneNumberId = null) => {
    const { row, hooks: to } = plan(type, data, dedupKey, now, phoneNumberId);
    // Raised once per occurrence, even if the step that raises it runs again.
    if (!events.claimDedupKey(dedupKey, row.id, now)) return null;
    events.insertEvent(row);
    for (const hook of to) events.insertDelivery(row.id, hook, now);
    return row.id;
  };
}
