/** The webhook envelope: object → entry[] → changes[] → {field, value}. */
import { z } from "zod";
import { InboundMessage, SenderContact } from "./messages";
import { absent, idText, lenientList, Metadata, MetaError, phoneText, unixSeconds, optionalId } from "./primitives";
import { MessageStatus } from "./statuses";

// The envelope is read leniently, level by level (whatsapp/normalize.ts): these schemas
// fail only when a level is not an object at all, so one odd part never hides its siblings.

export const Change = z.looseObject({
  field: z.string(),
  value: z.unknown().optional(),
});

export const Entry = z.looseObject({
  id: optionalId,
  time: unixSeconds, // integer unix seconds on management fields, absent on messages
  changes: z.array(z.unknown()).catch(absent).optional(),
});

export const WebhookPayload = z.looseObject({
  object: z.string().catch(absent).optional(),
  entry: z.array(z.unknown()),
});

/** `value` of the `messages` field: items are read one by one; contacts and errors explain them. */
export const MessagesValue = z.looseObject({
  messaging_product: z.string().catch(absent).optional(),
  metadata: Metadata.catch(absent).optional(),
  contacts: lenientList(SenderContact),
  messages: z.unknown().optional(),
  statuses: z.unknown().optional(),
  user_actions: z.unknown().optional(), // marketing link clicks (message-clicks.ts)
  errors: lenientList(MetaError),
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

export const PhoneQualityValue = z.looseObject({
  display_phone_number: optionalId,
  event: z.string().catch(absent).optional(), // FLAGGED, UNFLAGGED, DOWNGRADE, UPGRADE, ONBOARDING, … (open)
  current_limit: z.union([z.string(), z.number()]).catch(absent).optional(), // until February 2026; a number read as its tier, as the newer key's
  max_daily_conversations_per_business: z.union([z.string(), z.number()]).catch(absent).optional(), // since
});

/** Each part read on its own: an odd one reads as absent (it stays in `raw`), never the rest with it. */
export const UserPreference = z.looseObject({
  wa_id: phoneText.catch(absent).optional(),
  user_id: z.string().catch(absent).optional(),
  category: z.string().catch(absent).optional(),
  value: z.string().catch(absent).optional(),
  timestamp: unixSeconds, // an integer here, unlike message timestamps; either is accepted
  detail: z.string().catch(absent).optional(),
});

/** How many entry × change pairs a raw body carries (0 when it is not an envelope); for debug logs. */
export function countChanges(bytes: Uint8Array): number {
  try {
    const body = WebhookPayload.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    return body.success ? body.data.entry.reduce<number>((n, e) => n + (Entry.safeParse(e).data?.changes?.length ?? 0), 0) : 0;
  } catch {
    return 0;
  }
}
