/**
 * Events the daemon raises itself (the sweeper's message.stale, message.fallback,
 * fallback.held): no webhook behind them, so no inbox row and `raw` is null. Stored
 * and routed to hooks exactly like normalized events, in the caller's transaction.
 */
import type { Database } from "bun:sqlite";
import type { HookRoute } from "../config/schema";
import { hookFilter } from "../forward/hook-filter";
import { eventId } from "../util/ids";
import type { EventEnvelope } from "./envelope";
import type { EventType } from "./types";

export type RaiseEvent = (type: EventType, data: Record<string, unknown>, dedupKey: string, now: number, phoneNumberId?: string | null) => string | null;

export function eventRaiser(db: Database, hooks: readonly HookRoute[]): RaiseEvent {
  const routes = hooks.map((h) => ({ name: h.name, wants: hookFilter(h) }));
  const claim = db.prepare<unknown, [string, string, number]>("INSERT INTO dedup_keys (key, event_id, first_seen, last_seen) VALUES (?1, ?2, ?3, ?3) ON CONFLICT (key) DO NOTHING");
  const insert = db.prepare<unknown, [string, string, number, string | null, string, string]>(
    "INSERT INTO events (id, inbox_id, type, occurred_at, received_at, phone_number_id, dedup_key, envelope) VALUES (?1, NULL, ?2, ?3, ?3, ?4, ?5, ?6)",
  );
  const deliver = db.prepare<unknown, [string, string, number]>(
    "INSERT INTO deliveries (event_id, hook, next_attempt_at, created_at, updated_at) VALUES (?1, ?2, ?3, ?3, ?3) ON CONFLICT (event_id, hook) DO NOTHING",
  );
  return (type, data, dedupKey, now, phoneNumberId = null) => {
    const id = eventId(now);
    // Raised once per occurrence, even if the step that raises it runs again.
    if (claim.run(dedupKey, id, now).changes === 0) return null;
    const at = new Date(now).toISOString();
    const envelope: EventEnvelope = { id, type, timestamp: at, received_at: at, waba_id: null, phone_number_id: phoneNumberId, display_phone_number: null, data, raw: null };
    insert.run(id, type, now, phoneNumberId, dedupKey, JSON.stringify(envelope));
    for (const route of routes) if (route.wants(type, phoneNumberId)) deliver.run(id, route.name, now);
    return id;
  };
}
