/**
 * `automatic_events`: conversion events Meta detects in chats that came from an ad
 * (Purchase, LeadSubmitted), one `ads.event` per item. `custom_data.value` is the price
 * × 1000 (Meta's convention); `amount` gives it back in the currency's units. An item
 * without `custom_data` (a lead) is still typed, with nulls.
 */
import { z } from "zod";
import { eachItem, hashed, unknownEvent, type NormalizedEvent, type Where } from "./normalized-event";
import { absent, secondsToMs, unixSeconds, optionalNumber as number } from "./primitives";


const AutomaticEvent = z.looseObject({
  id: z.string(),
  event_name: z.string(),
  timestamp: unixSeconds,
  ctwa_clid: z.string().catch(absent).optional(),
  custom_data: z.looseObject({ currency: z.string().catch(absent).optional(), value: number }).catch(absent).optional(),
});

export function* normalizeAutomaticEvents(where: Where, value: unknown): Generator<NormalizedEvent> {
  yield* eachItem(where, value, "automatic_events", (raw) => {
    const parsed = AutomaticEvent.safeParse(raw);
    if (!parsed.success) return unknownEvent(where, raw, "automatic event without id or event_name");
    const e = parsed.data;
    const price = e.custom_data?.value ?? null;
    const data = {
      wamid: e.id,
      event_name: e.event_name,
      ctwa_clid: e.ctwa_clid ?? null,
      currency: e.custom_data?.currency ?? null,
      value: price,
      amount: price === null ? null : price / 1000,
    };
    return hashed(where, "ads.event", secondsToMs(e.timestamp) ?? where.entryTime, data, raw);
  });
}
