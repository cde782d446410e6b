/**
 * Events the daemon raises itself (the sweeper's message.stale, message.fallback,
 * fallback.held): no webhook behind them, so no inbox row and `raw` is null. Stored,
 * deduplicated and routed to hooks by the same event store as normalized events, in
 * the caller's transaction.
 */
import type { Database } from "bun:sqlite";
import type { HookRoute } from "../config/schema";
import { hookFilter } from "../forward/hook-filter";
import { eventStore } from "../store/event-store";
import { eventIds } from "../store/event-ids";
import type { EventEnvelope } from "./envelope";
import { eventSubject } from "./subject";
import type { EventType } from "./types";

export type RaiseEvent = (type: EventType, data: Record<string, unknown>, dedupKey: string, now: number, phoneNumberId?: string | null) => string | null;

export function eventRaiser(db: Database, hooks: readonly HookRoute[]): RaiseEvent {
  const routes = hooks.map((h) => ({ name: h.name, wants: hookFilter(h) }));
  const events = eventStore(db);
  const eventId = eventIds(db);
  return (type, data, dedupKey, now, phoneNumberId = null) => {
    const id = eventId(now);
    // Raised once per occurrence, even if the step that raises it runs again.
    if (!events.claimDedupKey(dedupKey, id, now)) return null;
    const at = new Date(now).toISOString();
    const envelope: EventEnvelope = { id, type, timestamp: at, received_at: at, waba_id: null, phone_number_id: phoneNumberId, display_phone_number: null, data, raw: null };
    events.insertEvent({ id, inboxId: null, type, occurredAt: now, receivedAt: now, wabaId: null, phoneNumberId, dedupKey, ...eventSubject(type, data), envelope: JSON.stringify(envelope) });
    for (const route of routes) if (route.wants(type, phoneNumberId)) events.insertDelivery(id, route.name, now);
    return id;
  };
}
