/** Examples in the OpenAPI document; a unit test parses each with its schema, so they stay true. */
import type { z } from "zod";
import type { EventEnvelope } from "../events/envelope";
import type { OutboundItem } from "./outbound";
import type { StatsDays } from "./responses";

export const ENVELOPE_EXAMPLE: EventEnvelope = {
  id: "evt_01JD5X3G7Q8W2N4M6P9R1S3T5V",
  type: "message.received",
  timestamp: "2026-11-23T11:59:58.000Z",
  received_at: "2026-11-23T12:00:00.123Z",
  waba_id: "102290129340398",
  phone_number_id: "106540352242922",
  display_phone_number: "15550783881",
  data: { wamid: "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", from: "16505551234", profile_name: "Sheena Nelson", kind: "text", text: { body: "Does it come in another color?" } },
  raw: { from: "16505551234", id: "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", timestamp: "1795435198", type: "text", text: { body: "Does it come in another color?" } },
};

export const OUTBOUND_EXAMPLE: z.input<typeof OutboundItem> = {
  wamid: "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA",
  to: "+16505551234",
  text: "Your code is 482913",
  category: "authentication",
  stale_after: "2m",
  not_after: "10m",
  fallback: "auto",
};

/** GET /v1/stats/days?days=2: a quiet day, then today. */
export const STATS_DAYS_EXAMPLE: z.output<typeof StatsDays> = {
  days: [
    {
      day: "2026-12-03",
      events: {},
      statuses: { sent: 0, delivered: 0, read: 0, failed: 0 },
      failed_by_code: [],
      billable: {},
      deliveries: { app: { delivered: 0, dead: 0 } },
      sms: { sent: 0, failed: 0, unknown: 0, cancelled: 0 },
    },
    {
      day: "2026-12-04",
      events: { "message.received": 12, "message.status": 40 },
      statuses: { sent: 10, delivered: 9, read: 5, failed: 2 },
      failed_by_code: [{ code: 131026, messages: 2 }],
      billable: { authentication: 3, marketing: 1 },
      deliveries: { app: { delivered: 52, dead: 1 } },
      sms: { sent: 1, failed: 0, unknown: 0, cancelled: 0 },
    },
  ],
};
