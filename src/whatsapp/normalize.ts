/**
 * Pure normalization: one parsed webhook body in, one NormalizedEvent per item out.
 * Every entry × change × message/status/item becomes its own event (Meta batches up
 * to 1000 updates per POST). Nothing is ever dropped: a shape we do not know becomes
 * `webhook.unknown` with the raw value kept.
 */
import type { EventType } from "../events/types";
import { FIELD_EVENT_TYPES } from "../events/types";
import { sha256Hex, stableStringify } from "../util/stable-json";
import { messageData, type StateEffect, statusData } from "./message-data";
import { InboundMessage, MessageStatus, MessagesValue, TemplateValue, UserPreference, WebhookPayload } from "./payload";
import { Metadata, normalizeError } from "./primitives";

export interface NormalizedEvent {
  type: EventType;
  dedupKey: string;
  occurredAt: number | null; // unix ms
  wabaId: string | null;
  phoneNumberId: string | null;
  displayPhoneNumber: string | null;
  data: Record<string, unknown>;
  raw: unknown;
  effects: StateEffect[];
}

export type { StateEffect };

interface Where {
  field: string;
  wabaId: string | null;
  entryTime: number | null;
  phoneNumberId: string | null;
  displayPhoneNumber: string | null;
}

/** Never throws: a body that is not a webhook envelope becomes one webhook.unknown. */
export function normalizePayload(body: unknown): NormalizedEvent[] {
  const payload = WebhookPayload.safeParse(body);
  if (!payload.success) {
    return [unknownEvent({ field: "(envelope)", wabaId: null, entryTime: null, phoneNumberId: null, displayPhoneNumber: null }, body, "not a webhook envelope")];
  }
  return payload.data.entry.flatMap((entry) =>
    entry.changes.flatMap((change) => {
      const value = change.value as Record<string, unknown> | undefined;
      const metadata = Metadata.safeParse(value?.metadata).data;
      const where: Where = {
        field: change.field,
        wabaId: entry.id ?? null,
        entryTime: entry.time ? entry.time * 1000 : null,
        phoneNumberId: metadata?.phone_number_id ?? null,
        displayPhoneNumber: metadata?.display_phone_number ?? (typeof value?.display_phone_number === "string" ? value.display_phone_number : null),
      };
      return normalizeChange(where, change.value);
    }),
  );
}

function normalizeChange(where: Where, value: unknown): NormalizedEvent[] {
  if (where.field === "messages") return normalizeMessages(where, value);
  if (where.field === "smb_message_echoes") return itemsOf(where, value, "message_echoes", "message.echo", (m) => `echo:${(m as { id?: string }).id ?? hashOf(where, m)}`);
  if (where.field === "user_preferences") return normalizeUserPreferences(where, value);
  if (where.field === "calls") return [...itemsOf(where, value, "calls", "call.event"), ...itemsOf(where, value, "statuses", "call.event")];
  const type = FIELD_EVENT_TYPES[where.field];
  if (!type) return [unknownEvent(where, value)];
  return [fieldEvent(where, type, value)];
}

function normalizeMessages(where: Where, value: unknown): NormalizedEvent[] {
  const parsed = MessagesValue.safeParse(value);
  if (!parsed.success) return [unknownEvent(where, value, "messages value has an unexpected shape")];
  const v = parsed.data;
  const events: NormalizedEvent[] = [];
  for (const raw of v.messages ?? []) {
    const message = InboundMessage.safeParse(raw);
    if (!message.success) {
      events.push(unknownEvent(where, raw, "message without id or type"));
      continue;
    }
    const { data, effects } = messageData(message.data, v.contacts ?? []);
    events.push(base(where, "message.received", `msg:${message.data.id}`, ms(message.data.timestamp), data, raw, effects));
  }
  for (const raw of v.statuses ?? []) {
    const status = MessageStatus.safeParse(raw);
    if (!status.success) {
      events.push(unknownEvent(where, raw, "status without id or status"));
      continue;
    }
    const { data, effects } = statusData(status.data, where.phoneNumberId, v.errors);
    events.push(base(where, "message.status", `status:${status.data.id}:${status.data.status}`, ms(status.data.timestamp), data, raw, effects));
  }
  // Value-level errors with nothing else to attach them to: an account/system-level event.
  if (v.errors && v.errors.length > 0 && !(v.messages?.length || v.statuses?.length)) {
    const errors = v.errors.map(normalizeError);
    events.push(base(where, "webhook.error", `hash:${hashOf(where, v.errors)}`, where.entryTime, { errors }, value, []));
  } else if (v.errors && v.errors.length > 0 && v.messages?.length) {
    // Errors next to messages (e.g. interactive without content): attach them to each message.
    for (const e of events) if (e.type === "message.received" && !e.data.errors) e.data.errors = v.errors.map(normalizeError);
  }
  if (events.length === 0) events.push(unknownEvent(where, value, "messages value without messages, statuses or errors"));
  return events;
}

function normalizeUserPreferences(where: Where, value: unknown): NormalizedEvent[] {
  const items = (value as { user_preferences?: unknown[] } | undefined)?.user_preferences;
  if (!Array.isArray(items)) return [unknownEvent(where, value)];
  return items.map((raw) => {
    const pref = UserPreference.safeParse(raw).data ?? {};
    const effects: StateEffect[] =
      pref.wa_id && pref.category === "marketing_messages" && (pref.value === "stop" || pref.value === "resume")
        ? [{ kind: "opt_out", waId: pref.wa_id, optOut: pref.value === "stop" }]
        : [];
    const data = { wa_id: pref.wa_id ?? null, user_id: pref.user_id ?? null, category: pref.category ?? null, value: pref.value ?? null, detail: pref.detail ?? null };
    return base(where, "user.preferences", `hash:${hashOf(where, raw)}`, pref.timestamp ? pref.timestamp * 1000 : where.entryTime, data, raw, effects);
  });
}

function itemsOf(where: Where, value: unknown, key: string, type: EventType, keyOf?: (item: unknown) => string): NormalizedEvent[] {
  const items = (value as Record<string, unknown> | undefined)?.[key];
  if (!Array.isArray(items)) return [];
  return items.map((raw) => {
    const ts = (raw as { timestamp?: unknown }).timestamp;
    const occurred = typeof ts === "string" || typeof ts === "number" ? Number(ts) * 1000 : where.entryTime;
    return base(where, type, keyOf?.(raw) ?? `hash:${hashOf(where, raw)}`, occurred, { ...(raw as object) }, raw, []);
  });
}

function fieldEvent(where: Where, type: EventType, value: unknown): NormalizedEvent {
  const data: Record<string, unknown> = typeof value === "object" && value !== null ? { ...(value as object) } : { value };
  const effects: StateEffect[] = [];
  if (type.startsWith("template.")) {
    const t = TemplateValue.safeParse(value).data;
    if (t?.message_template_id) {
      data.message_template_id = t.message_template_id; // 16-digit id kept as text
      effects.push({
        kind: "template",
        templateId: t.message_template_id,
        name: t.message_template_name ?? null,
        language: t.message_template_language ?? null,
        status: type === "template.status" ? (t.event ?? null) : null,
        quality: type === "template.quality" ? (t.new_quality_score ?? null) : null,
        // In the impending variant new_category is the *current* one; only a completed change moves it.
        category: type === "template.category" ? (t.previous_category ? (t.new_category ?? null) : null) : (t.message_template_category ?? null),
      });
    }
  }
  return base(where, type, `hash:${hashOf(where, value)}`, where.entryTime, data, value, effects);
}

function unknownEvent(where: Where, raw: unknown, reason?: string): NormalizedEvent {
  const data: Record<string, unknown> = { field: where.field };
  if (reason) data.reason = reason;
  return base(where, "webhook.unknown", `hash:${hashOf(where, raw)}`, where.entryTime, data, raw, []);
}

function base(where: Where, type: EventType, dedupKey: string, occurredAt: number | null, data: Record<string, unknown>, raw: unknown, effects: StateEffect[]): NormalizedEvent {
  return { type, dedupKey, occurredAt, wabaId: where.wabaId, phoneNumberId: where.phoneNumberId, displayPhoneNumber: where.displayPhoneNumber, data, raw, effects };
}

function hashOf(where: Where, value: unknown): string {
  return sha256Hex(`${where.field}\n${where.wabaId ?? ""}\n${stableStringify(value)}`);
}

function ms(seconds: number | undefined): number | null {
  return seconds === undefined ? null : seconds * 1000;
}
