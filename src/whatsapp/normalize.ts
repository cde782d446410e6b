/**
 * Pure normalization: one parsed webhook body in, one NormalizedEvent per item out.
 * Every entry × change × message/status/item becomes its own event (Meta batches up
 * to 1000 updates per POST). Nothing is ever dropped: a shape we do not know becomes
 * `webhook.unknown` with the raw value kept.
 */
import type { EventType } from "../events/types";
import { base, guarded, hashOf, isRecord, unknownEvent, type NormalizedEvent, type Where } from "./normalized-event";
import { FIELD_EVENT_TYPES } from "../events/types";
import { sha256Hex, stableStringify } from "../util/stable-json";
import { contactNaming, messageData, recipientOf, senderOf, statusData } from "./message-data";
import type { StateEffect } from "../domain/effects";
import type { SenderContact } from "./messages";
import { Change, Entry, InboundMessage, MessagesValue, MessageStatus, PhoneQualityValue, TemplateValue, UserPreference, WebhookPayload } from "./payload";
import { Metadata, normalizeError, secondsToMs, type NormalizedError } from "./primitives";
import { statusDedupKey } from "./statuses";
import { normalizeAutomaticEvents } from "./ads-events";
import { normalizeCalls } from "./calls";
import { normalizeStateSync } from "./contact-sync";
import { normalizeGroups } from "./groups";
import { normalizeHistory } from "./history";
import { managementReader } from "./management-values";
import { clickEvent } from "./message-clicks";
import { normalizeUserIdUpdates, systemUserIdChange } from "./user-id-change";
import { currentLimit, QUALITY_EVENTS } from "./messaging-limit";
import { displayDigits } from "./phone";

export type { NormalizedEvent };

/** The `object` of every WhatsApp Business Account webhook. */
const WHATSAPP_OBJECT = "whatsapp_business_account";

/**
 * Never throws, and no item takes its siblings down with it: each entry, change and
 * item is read inside its own guard, and whatever cannot be read becomes a
 * `webhook.unknown` with the reason and the raw value.
 */
export function normalizePayload(body: unknown): NormalizedEvent[] {
  return [...normalizeEvents(body)];
}

/**
 * The same events, one at a time: a body with 100,000 items takes most of a second
 * to normalize, so the worker pulls events in slices and never holds its thread
 * (which commits webhooks) for the whole body.
 */
export function* normalizeEvents(body: unknown): Generator<NormalizedEvent> {
  const top: Where = { field: "(envelope)", wabaId: null, entryTime: null, phoneNumberId: null, displayPhoneNumber: null };
  const payload = WebhookPayload.safeParse(body);
  if (!payload.success) return yield unknownEvent(top, body, "not a webhook envelope (no entry array)");
  // Another product of the same app (Instagram, Messenger, a Page) posted to the same URL: its
  // changes may look like ours (a `messages` field) but mean something else. Kept whole.
  const object = (body as { object?: unknown }).object;
  if (object !== undefined && object !== WHATSAPP_OBJECT) return yield unknownEvent(top, body, `object is ${JSON.stringify(object).slice(0, 60)}, not ${WHATSAPP_OBJECT}`);
  // Like an entry without changes: a body that reached us is never zero events.
  if (payload.data.entry.length === 0) return yield unknownEvent(top, body, "envelope without entries");
  for (const entry of payload.data.entry) yield* isolated(top, entry, () => normalizeEntry(entry));
}

function* normalizeEntry(entry: unknown): Generator<NormalizedEvent> {
  const where: Where = { field: "(entry)", wabaId: null, entryTime: null, phoneNumberId: null, displayPhoneNumber: null };
  const parsed = Entry.safeParse(entry);
  if (!parsed.success) return yield unknownEvent(where, entry, "entry is not an object");
  where.wabaId = parsed.data.id ?? null;
  where.entryTime = secondsToMs(parsed.data.time);
  const changes = parsed.data.changes;
  // Another product's shape (e.g. Messenger's `messaging`) posted to the same URL: kept whole.
  if (!Array.isArray(changes) || changes.length === 0) return yield unknownEvent(where, entry, "entry without changes");
  for (const change of changes) yield* isolated({ ...where, field: "(change)" }, change, () => normalizeChangeItem(where, change));
}

function* normalizeChangeItem(entry: Where, change: unknown): Generator<NormalizedEvent> {
  const parsed = Change.safeParse(change);
  if (!parsed.success) return yield unknownEvent({ ...entry, field: "(change)" }, change, "change without a field name");
  const value = parsed.data.value;
  const metadata = Metadata.safeParse(isRecord(value) ? value.metadata : undefined).data;
  const where: Where = {
    ...entry,
    field: parsed.data.field,
    phoneNumberId: metadata?.phone_number_id ?? null,
    displayPhoneNumber: metadata?.display_phone_number ?? (isRecord(value) ? idOf(value.display_phone_number) : null),
  };
  let yielded = 0;
  for (const event of normalizeChange(where, value)) {
    yielded++;
    yield event;
  }
  // A shape we do not know under a known field (echoes under another key, an empty list):
  // kept and passed on, never zero events for a change that reached us.
  if (yielded === 0) yield unknownEvent(where, value, "no item to read in this change's value");
}

/** An entry or a change: its items are guarded one by one, so only a throw is caught here. */
function* isolated(where: Where, raw: unknown, read: () => Iterable<NormalizedEvent>): Generator<NormalizedEvent> {
  let yielded = 0;
  try {
    for (const event of read()) {
      yielded++;
      yield event;
    }
  } catch (err) {
    yield unknownEvent(where, raw, `unreadable after ${yielded} events: ${(err as Error).message}`);
  }
}

/** A change's events, then any part of its value that none of them read or kept, as a webhook.unknown. */
function* normalizeChange(where: Where, value: unknown): Generator<NormalizedEvent> {
  let yielded = 0;
  let wholeKept = false;
  for (const event of readChange(where, value)) {
    yielded++;
    wholeKept ||= event.raw === value;
    yield event;
  }
  // None at all: the caller keeps the whole value as one unknown.
  const known = Object.hasOwn(VALUE_PARTS, where.field) ? VALUE_PARTS[where.field]! : null;
  if (!known || yielded === 0 || wholeKept || !isRecord(value)) return;
  // A part Meta added that we do not read yet (a new list beside the items): kept and passed on.
  const unread = Object.keys(value).filter((key) => !known.has(key));
  if (unread.length > 0) yield unknownEvent(where, Object.fromEntries(unread.map((key) => [key, value[key]])), `${where.field} value parts not read: ${unread.join(", ")}`);
}

const ENVELOPE_PARTS = ["messaging_product", "metadata"];
/**
 * What the value of each field with a list of items holds, per Meta's reference: the
 * items, and the parts that explain them (read into the items' events). Fields whose
 * value is one notice keep it whole in `data`; these do not.
 */
const VALUE_PARTS: Record<string, ReadonlySet<string>> = Object.fromEntries(
  Object.entries({
    messages: ["contacts", "messages", "statuses", "user_actions", "errors"],
    calls: ["contacts", "calls", "statuses", "errors"],
    smb_message_echoes: ["message_echoes"],
    user_preferences: ["contacts", "user_preferences"],
    group_lifecycle_update: ["groups"],
    group_participants_update: ["groups"],
    group_settings_update: ["groups"],
    group_status_update: ["groups"],
    history: ["history", "messages"], // media of history messages come later as messages[]
    smb_app_state_sync: ["state_sync"],
    user_id_update: ["contacts", "user_id_update"],
    automatic_events: ["automatic_events"],
  }).map(([field, parts]) => [field, new Set([...ENVELOPE_PARTS, ...parts])]),
);

function* readChange(where: Where, value: unknown): Generator<NormalizedEvent> {
  if (where.field === "messages") return yield* normalizeMessages(where, value);
  if (where.field === "smb_message_echoes") return yield* itemsOf(where, value, "message_echoes", "message.echo", (m) => `echo:${(m as { id?: string }).id ?? hashOf(where, m)}`);
  if (where.field === "user_preferences") return yield* normalizeUserPreferences(where, value);
  if (where.field === "calls") return yield* normalizeCalls(where, value);
  const items = Object.hasOwn(ITEM_FIELDS, where.field) ? ITEM_FIELDS[where.field] : undefined;
  if (items) return yield* items(where, value);
  const management = managementReader(where.field);
  if (management) return yield guarded(where, value, () => management(where, value));
  // Own properties only: a field named "constructor" or "__proto__" is unknown, not Object's.
  const type = Object.hasOwn(FIELD_EVENT_TYPES, where.field) ? FIELD_EVENT_TYPES[where.field] : undefined;
  if (!type) return yield unknownEvent(where, value);
  yield guarded(where, value, () => fieldEvent(where, type, value));
}

/** Fields whose value holds a list of items, each its own event. */
const ITEM_FIELDS: Record<string, (where: Where, value: unknown) => Generator<NormalizedEvent>> = {
  group_lifecycle_update: normalizeGroups,
  group_participants_update: normalizeGroups,
  group_settings_update: normalizeGroups,
  group_status_update: normalizeGroups,
  history: normalizeHistory,
  smb_app_state_sync: normalizeStateSync,
  user_id_update: normalizeUserIdUpdates,
  automatic_events: normalizeAutomaticEvents,
};

function* normalizeMessages(where: Where, value: unknown): Generator<NormalizedEvent> {
  const parsed = MessagesValue.safeParse(value);
  if (!parsed.success) return yield unknownEvent(where, value, "messages value is not an object");
  // Siblings that explain the items: a malformed one is skipped, never the items it sits beside.
  const v = parsed.data;
  const contacts = v.contacts ?? [];
  const errors = v.errors ?? [];
  const messages = listOf(v.messages);
  const statuses = listOf(v.statuses);
  const actions = listOf(v.user_actions);
  let yielded = 0;
  for (const key of ["messages", "statuses", "user_actions"] as const) {
    if (v[key] !== undefined && !Array.isArray(v[key])) {
      yielded++;
      yield unknownEvent(where, v[key], `${key} is not an array`);
    }
  }
  // Errors next to messages (e.g. interactive without content) are attached to each message
  // without errors of its own, and to a failed status without any; whether any event took
  // them is told by identity (valueErrors itself is what they carry).
  const valueErrors = errors.length > 0 ? errors.map(normalizeError) : null;
  let errorsCarried = false;
  for (const [index, raw] of messages.entries()) {
    const event = guarded(where, raw, () => messageEvent(where, raw, contacts, index, messages.length));
    if (valueErrors && event.type === "message.received" && !event.data.errors) event.data.errors = valueErrors;
    errorsCarried ||= valueErrors !== null && event.data.errors === valueErrors;
    yielded++;
    yield event;
    const moved = event.type === "message.received" && event.data.kind === "system" ? idChangeOf(where, raw) : null;
    if (moved) {
      yielded++;
      yield moved;
    }
  }
  for (const raw of statuses) {
    const event = guarded(where, raw, () => statusEvent(where, raw, valueErrors, contacts));
    errorsCarried ||= valueErrors !== null && event.data.errors === valueErrors;
    yielded++;
    yield event;
  }
  for (const raw of actions) {
    yielded++;
    yield guarded(where, raw, () => clickEvent(where, raw, contacts) ?? unknownEvent(where, raw, "user action without action_type"));
  }
  // Value-level errors no item took (none beside them, or every item had its own, or only
  // statuses that did not fail): an event of their own, never dropped. Alone they are keyed
  // by themselves (Meta sends no time with them); beside items, by the whole value, so
  // they are one occurrence with those items.
  if (valueErrors && !errorsCarried) {
    const alone = messages.length + statuses.length + actions.length === 0;
    yielded++;
    yield base(where, "webhook.error", `hash:${hashOf(where, alone ? v.errors : value)}`, where.entryTime, { errors: valueErrors }, value, []);
  }
  if (yielded === 0) yield unknownEvent(where, value, "messages value without messages, statuses or errors");
}

/** A `system` message saying the user's BSUID changed is also its own user.id_changed. */
function idChangeOf(where: Where, raw: unknown): NormalizedEvent | null {
  const message = InboundMessage.safeParse(raw);
  return message.success ? systemUserIdChange(where, message.data) : null;
}

function messageEvent(where: Where, raw: unknown, contacts: SenderContact[], index: number, count: number): NormalizedEvent {
  if (!isRecord(raw)) return unknownEvent(where, raw, "item is not an object");
  const message = InboundMessage.safeParse(raw);
  if (!message.success) return unknownEvent(where, raw, "message without id or type");
  const { data, effects } = messageData(message.data, senderOf(message.data, contacts, index, count));
  // Missing or out of range: the entry's time, as for every other item (docs/events.md).
  return base(where, "message.received", `msg:${message.data.id}`, secondsToMs(message.data.timestamp) ?? where.entryTime, data, raw, effects);
}

function statusEvent(where: Where, raw: unknown, valueErrors: NormalizedError[] | null, contacts: SenderContact[]): NormalizedEvent {
  if (!isRecord(raw)) return unknownEvent(where, raw, "item is not an object");
  const status = MessageStatus.safeParse(raw);
  if (!status.success) return unknownEvent(where, raw, "status without id or status");
  const { data, effects } = statusData(status.data, where.phoneNumberId, valueErrors, recipientOf(status.data, contacts));
  const key = statusDedupKey(status.data, (v) => sha256Hex(stableStringify(v)));
  return base(where, "message.status", key, secondsToMs(status.data.timestamp) ?? where.entryTime, data, raw, effects);
}

function* normalizeUserPreferences(where: Where, value: unknown): Generator<NormalizedEvent> {
  const items = isRecord(value) ? value.user_preferences : undefined;
  if (!Array.isArray(items)) return yield unknownEvent(where, value);
  for (const raw of items) yield guarded(where, raw, () => userPreferenceEvent(where, raw, value));
}

function userPreferenceEvent(where: Where, raw: unknown, value: unknown): NormalizedEvent {
  if (!isRecord(raw)) return unknownEvent(where, raw, "item is not an object");
  const pref = UserPreference.safeParse(raw).data ?? {};
  const who = pref.wa_id || pref.user_id;
  const at = secondsToMs(pref.timestamp) ?? where.entryTime;
  const effects: StateEffect[] =
    who && pref.category === "marketing_messages" && (pref.value === "stop" || pref.value === "resume")
      ? [{ kind: "notice", subject: "contact", id: who, attribute: "marketing_opt_out", value: pref.value, at, record: "always" }]
      : [];
  // The item as sent (a signup_id, a snooze's until), then the typed fields, and the user's contacts[] entry.
  const data: Record<string, unknown> = { ...raw, wa_id: pref.wa_id ?? null, user_id: pref.user_id ?? null, category: pref.category ?? null, value: pref.value ?? null, detail: pref.detail ?? null };
  const contact = contactNaming(value, [pref.wa_id, pref.user_id]);
  if (contact) data.contact = contact;
  return base(where, "user.preferences", `hash:${hashOf(where, raw)}`, at, data, raw, effects);
}

function* itemsOf(where: Where, value: unknown, key: string, type: EventType, keyOf?: (item: unknown) => string): Generator<NormalizedEvent> {
  const items = isRecord(value) ? value[key] : undefined;
  if (items === undefined) return;
  if (!Array.isArray(items)) return yield unknownEvent(where, items, `${key} is not an array`);
  for (const raw of items) {
    yield guarded(where, raw, () => {
      if (!isRecord(raw)) return unknownEvent(where, raw, "item is not an object");
      const occurred = secondsToMs(raw.timestamp) ?? where.entryTime;
      return base(where, type, keyOf?.(raw) ?? `hash:${hashOf(where, raw)}`, occurred, { ...raw }, raw, []);
    });
  }
}

function fieldEvent(where: Where, named: EventType, value: unknown): NormalizedEvent {
  // Every such field's value is an object: a list, a scalar or null is not the event its field names.
  if (!isRecord(value)) return unknownEvent(where, value, "value is not an object");
  // Meta's own example of a quality update is labelled message_template_status_update: a
  // status update without an event but with a new quality score is that quality update.
  const type: EventType = named === "template.status" && value.event === undefined && typeof value.new_quality_score === "string" ? "template.quality" : named;
  const data: Record<string, unknown> = { ...value };
  const effects: StateEffect[] = [];
  if (type.startsWith("template.")) {
    const t = TemplateValue.safeParse(value).data;
    if (t?.message_template_id) {
      data.message_template_id = t.message_template_id; // 16-digit id kept as text
      const id = t.message_template_id;
      effects.push({ kind: "template", templateId: id, name: t.message_template_name ?? null, language: t.message_template_language ?? null, category: t.message_template_category ?? null });
      const notice = (attribute: "status" | "quality" | "category", value: string | null | undefined) =>
        value ? effects.push({ kind: "notice", subject: "template", id, attribute, value, at: where.entryTime, record: "always" }) : 0;
      if (type === "template.status") notice("status", t.event);
      if (type === "template.quality") notice("quality", t.new_quality_score);
      // In the impending variant new_category is the *current* one; only a completed change moves it.
      if (type === "template.category" && t.previous_category) notice("category", t.new_category);
    }
  }
  // Ids as text, as everywhere in data: Meta's example gives this one as a JSON number.
  if (type === "account.alert" && value.entity_id !== undefined) data.entity_id = idOf(value.entity_id) ?? value.entity_id;
  // An alert about a phone number is that number's event: hooks filtered by phone_number_ids get it.
  const about = type === "account.alert" && where.phoneNumberId === null && String(value.entity_type).toUpperCase() === "PHONE_NUMBER" && typeof data.entity_id === "string" ? { ...where, phoneNumberId: data.entity_id } : where;
  if (type === "phone_number.quality") {
    const q = PhoneQualityValue.safeParse(value).data;
    // Keyed by the digits: Meta writes one number "15550783881" or "+1 555-078-3881".
    const id = where.phoneNumberId ?? (q?.display_phone_number ? displayDigits(q.display_phone_number) : null);
    const limit = q ? currentLimit(q) : null;
    // Only a rating sets the quality; UPGRADE, ONBOARDING, THROUGHPUT_UPGRADE… are about the limit.
    if (id && q?.event && QUALITY_EVENTS.has(q.event.toUpperCase())) effects.push({ kind: "notice", subject: "phone_number", id, attribute: "quality", value: q.event, at: where.entryTime, record: "always" });
    if (id && limit) effects.push({ kind: "notice", subject: "phone_number", id, attribute: "messaging_limit", value: limit, at: where.entryTime, record: "always" });
  }
  return base(about, type, `hash:${hashOf(where, value)}`, where.entryTime, data, value, effects);
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function idOf(value: unknown): string | null {
  return typeof value === "string" || (typeof value === "number" && Number.isFinite(value)) ? String(value) : null;
}
