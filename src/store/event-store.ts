/** Events, dedup keys, deliveries to create, and the message/contact/template state. */
import type { Database } from "bun:sqlite";
import type { StateEffect } from "../domain/effects";
import type { BatchWrites } from "../engine/processing";
import type { EventRow } from "../events/event-row";

export function eventStore(db: Database) {
  const seen = db.prepare<unknown, [number, string]>("UPDATE dedup_keys SET duplicates = duplicates + 1, last_seen = ? WHERE key = ?");
  const remember = db.prepare<unknown, [string, string, number, number]>("INSERT INTO dedup_keys (key, event_id, first_seen, last_seen) VALUES (?, ?, ?, ?)");
  const insertEvent = db.prepare<unknown, [string, number | null, string, number | null, number, string | null, string | null, string, string | null, string | null, string]>(
    "INSERT INTO events (id, inbox_id, type, occurred_at, received_at, waba_id, phone_number_id, dedup_key, wamid, wa_id, envelope) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const insertDelivery = db.prepare<unknown, [string, string, number, number, number]>(
    "INSERT INTO deliveries (event_id, hook, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_id, hook) DO NOTHING",
  );
  // New keys are inserted; a key seen before counts one more duplicate and answers the event it already had.
  const claimKeys = db.prepare<{ event_id: string }, [string, number]>(
    `INSERT INTO dedup_keys (key, event_id, first_seen, last_seen) SELECT value ->> 0, value ->> 1, ?2, ?2 FROM json_each(?1) WHERE true
     ON CONFLICT (key) DO UPDATE SET duplicates = duplicates + 1, last_seen = excluded.last_seen
     RETURNING event_id`,
  );
  const repeated = db.prepare<unknown, [string, number, number]>("UPDATE dedup_keys SET duplicates = duplicates + ?2, last_seen = ?3 WHERE key = ?1");
  const insertDeliveries = db.prepare<unknown, [string, number]>(
    `INSERT INTO deliveries (event_id, hook, next_attempt_at, created_at, updated_at)
     SELECT value ->> 0, value ->> 1, ?2, ?2, ?2 FROM json_each(?1) WHERE true ON CONFLICT (event_id, hook) DO NOTHING`,
  );
  const upsertOutbound = db.prepare<unknown, [string, string | null, string | null, string, number | null, string | null, string | null, string | null, number, number]>(
    `INSERT INTO outbound_messages (wamid, phone_number_id, recipient_id, status, status_at, errors, pricing, biz_opaque_callback_data, first_seen_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
     ON CONFLICT (wamid) DO UPDATE SET
       status = excluded.status,
       status_at = CASE WHEN excluded.status <> outbound_messages.status THEN excluded.status_at ELSE outbound_messages.status_at END,
       phone_number_id = coalesce(outbound_messages.phone_number_id, excluded.phone_number_id),
       recipient_id = coalesce(outbound_messages.recipient_id, excluded.recipient_id),
       errors = coalesce(excluded.errors, outbound_messages.errors),
       pricing = coalesce(excluded.pricing, outbound_messages.pricing),
       biz_opaque_callback_data = coalesce(outbound_messages.biz_opaque_callback_data, excluded.biz_opaque_callback_data),
       updated_at = excluded.updated_at`,
  );
  const timeline = db.prepare<unknown, [string, string, number | null, string | null, string | null, string, number]>(
    "INSERT INTO message_statuses (wamid, status, status_at, errors, pricing, event_id, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  const inbound = db.prepare<unknown, [string, string, string | null, string | null, string, number | null, number]>(
    "INSERT INTO inbound_messages (wamid, event_id, phone_number_id, sender, kind, sent_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (wamid) DO NOTHING",
  );
  const contact = db.prepare<unknown, [string, number | null, number]>(
    `INSERT INTO contacts (wa_id, last_seen_at, updated_at) VALUES (?1, ?2, ?3)
     ON CONFLICT (wa_id) DO UPDATE SET
       last_seen_at = max(coalesce(contacts.last_seen_at, 0), coalesce(excluded.last_seen_at, 0)), updated_at = excluded.updated_at`,
  );
  const template = db.prepare<unknown, [string, string | null, string | null, string | null, number]>(
    `INSERT INTO templates (template_id, name, language, category, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
     ON CONFLICT (template_id) DO UPDATE SET name = coalesce(excluded.name, templates.name), language = coalesce(excluded.language, templates.language),
       -- a category change is a clocked notice (notice-store.ts); the category other notices carry only fills a gap
       category = coalesce(templates.category, excluded.category), updated_at = excluded.updated_at`,
  );

  return {
    /** Records the key; false (and counts a duplicate) when it was already seen. */
    claimDedupKey(key: string, eventId: string, now: number): boolean {
      if (seen.run(now, key).changes > 0) return false;
      remember.run(key, eventId, now, now);
      return true;
    },
    /**
     * A set of proposed events' keys in one upsert: returns the ids whose key was new.
     * A key repeated within the set is a duplicate of its first; every duplicate is counted.
     */
    claimDedupKeys(proposed: readonly { id: string; key: string }[], now: number): Set<string> {
      const first = new Map<string, string>();
      const repeats = new Map<string, number>();
      for (const { id, key } of proposed) {
        if (!first.has(key)) first.set(key, id);
        else repeats.set(key, (repeats.get(key) ?? 0) + 1);
      }
      if (first.size === 0) return new Set();
      const fresh = new Set(claimKeys.all(JSON.stringify([...first]), now).map((r) => r.event_id));
      for (const [key, n] of repeats) repeated.run(key, n, now);
      return fresh;
    },
    insertDeliveries(list: readonly { eventId: string; hook: string }[], now: number) {
      if (list.length > 0) insertDeliveries.run(JSON.stringify(list.map((d) => [d.eventId, d.hook])), now);
    },
    insertEvent(e: EventRow) {
      insertEvent.run(e.id, e.inboxId, e.type, e.occurredAt, e.receivedAt, e.wabaId, e.phoneNumberId, e.dedupKey, e.wamid, e.waId, e.envelope);
    },
    insertDelivery(eventId: string, hook: string, now: number) {
      insertDelivery.run(eventId, hook, now, now, now);
    },
    /** Stores a status: the message's row (its state `next`, decided by worker/plan.ts) and a timeline row. */
    applyStatus(effect: Extract<StateEffect, { kind: "status" }>, next: string, eventId: string, now: number, receivedAt: number) {
      const errors = effect.errors ? JSON.stringify(effect.errors) : null;
      const pricing = effect.pricing ? JSON.stringify(effect.pricing) : null;
      upsertOutbound.run(effect.wamid, effect.phoneNumberId, effect.recipientId, next, effect.statusAt, errors, pricing, effect.bizOpaque, now, now);
      timeline.run(effect.wamid, effect.status, effect.statusAt, errors, pricing, eventId, receivedAt);
    },
    insertInbound(m: BatchWrites["inbound"][number]) {
      inbound.run(m.wamid, m.eventId, m.phoneNumberId, m.sender, m.kind, m.sentAt, m.receivedAt);
    },
    seeContact(waId: string, seenAt: number | null, now: number) {
      contact.run(waId, seenAt, now);
    },
    upsertTemplate(t: BatchWrites["templates"][number], now: number) {
      template.run(t.templateId, t.name, t.language, t.category, now);
    },
  };
}
