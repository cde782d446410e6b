/**
 * `smb_app_state_sync` (coexistence): the WhatsApp Business app's address book, one
 * `contact.sync` per `state_sync[]` item. Names are omitted on `remove`. A state of
 * another type than `contact` is kept as `webhook.unknown` beside its siblings.
 */
import { z } from "zod";
import { eachItem, hashed, unknownEvent, type NormalizedEvent, type Where } from "./normalized-event";
import { absent, phoneText, secondsToMs, unixSeconds, optionalText as text } from "./primitives";

const StateSync = z.looseObject({
  type: z.string(),
  action: text,
  contact: z
    .looseObject({ full_name: text, first_name: text, phone_number: phoneText.catch(absent).optional(), user_id: text, username: text })
    .catch(absent)
    .optional(),
  metadata: z.looseObject({ timestamp: unixSeconds }).catch(absent).optional(), // a string in Meta's example
});

export function* normalizeStateSync(where: Where, value: unknown): Generator<NormalizedEvent> {
  yield* eachItem(where, value, "state_sync", (raw) => contactSync(where, raw));
}

function contactSync(where: Where, raw: Record<string, unknown>): NormalizedEvent {
  const parsed = StateSync.safeParse(raw);
  if (!parsed.success) return unknownEvent(where, raw, "state_sync item without type");
  const s = parsed.data;
  if (s.type !== "contact") return unknownEvent(where, raw, `state_sync item of type ${JSON.stringify(s.type)}`);
  const at = secondsToMs(s.metadata?.timestamp);
  const c = s.contact;
  const data = {
    action: s.action ?? null,
    phone_number: c?.phone_number ?? null,
    user_id: c?.user_id ?? null,
    username: c?.username ?? null,
    full_name: c?.full_name ?? null,
    first_name: c?.first_name ?? null,
    sync_timestamp: at === null ? null : new Date(at).toISOString(),
  };
  // Timed by its metadata: the same item re-batched under another entry.time is one event.
  return hashed(where, "contact.sync", at ?? where.entryTime, data, raw, [], at !== null);
}
