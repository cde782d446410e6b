/** The webhook envelope: object → entry[] → changes[] → {field, value}. */
import { z } from "zod";
import { InboundMessage, SenderContact } from "./messages";
import { idText, Metadata, MetaError } from "./primitives";
import { MessageStatus } from "./statuses";

export const Change = z.looseObject({
  field: z.string(),
  value: z.unknown(),
});

export const Entry = z.looseObject({
  id: idText.optional(),
  time: z.number().optional(), // integer unix seconds on management fields, absent on messages
  changes: z.array(Change).default([]),
});

export const WebhookPayload = z.looseObject({
  object: z.string().optional(),
  entry: z.array(Entry),
});
export type WebhookPayload = z.infer<typeof WebhookPayload>;

/** `value` of the `messages` field (also the shape of smb_message_echoes, with message_echoes). */
export const MessagesValue = z.looseObject({
  messaging_product: z.string().optional(),
  metadata: Metadata.optional(),
  contacts: z.array(SenderContact).optional(),
  messages: z.array(z.unknown()).optional(),
  statuses: z.array(z.unknown()).optional(),
  errors: z.array(MetaError).optional(),
});

export { InboundMessage, MessageStatus };

/** Management fields: a loose object per field, with the ids we index kept as text. */
export const TemplateValue = z.looseObject({
  event: z.string().optional(),
  message_template_id: idText.optional(),
  message_template_name: z.string().optional(),
  message_template_language: z.string().optional(),
  message_template_category: z.string().optional(),
  reason: z.string().nullable().optional(),
  previous_quality_score: z.string().optional(),
  new_quality_score: z.string().optional(),
  previous_category: z.string().optional(),
  new_category: z.string().optional(),
  correct_category: z.string().optional(),
});
export type TemplateValue = z.infer<typeof TemplateValue>;

export const UserPreference = z.looseObject({
  wa_id: z.string().optional(),
  user_id: z.string().optional(),
  category: z.string().optional(),
  value: z.string().optional(),
  timestamp: z.number().optional(),
  detail: z.string().optional(),
});

/** How many entry × change pairs a raw body carries (0 when it is not an envelope); for debug logs. */
export function countChanges(bytes: Uint8Array): number {
  try {
    const body = WebhookPayload.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    return body.success ? body.data.entry.reduce((n, e) => n + e.changes.length, 0) : 0;
  } catch {
    return 0;
  }
}
