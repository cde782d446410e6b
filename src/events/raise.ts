/**
 * Events the daemon raises itself (the sweeper's message.stale, message.fallback,
 * fallback.held): no webhook behind them, so no inbox row and `raw` is null. Planned
 * here (pure); stored, deduplicated and routed to hooks by the engine's event store, as
 * normalized events are, in the caller's transaction (store/event-raiser.ts).
 */
import type { HookRoute } from "../config/schema";
import { hookFilter } from "./hook-filter";
import type { EventEnvelope } from "./envelope";
import { eventSubject } from "./subject";
import type { EventType } from "./types";
import type { EventRow } from "./event-row";

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
