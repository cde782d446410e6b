/** The event envelope POSTed to hooks: the zod schema is the contract (docs/events.md, OpenAPI). */
import { z } from "zod";
import { EVENT_TYPES } from "./types";

export const EventEnvelope = z.object({
  id: z.string().regex(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/),
  type: z.enum(EVENT_TYPES),
  timestamp: z.string(), // ISO 8601, when it happened (Meta's timestamp; received_at when Meta gives none)
  received_at: z.string(), // ISO 8601, when the POST reached us
  waba_id: z.string().nullable(),
  phone_number_id: z.string().nullable(),
  display_phone_number: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  raw: z.unknown(), // the item exactly as Meta sent it
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;
