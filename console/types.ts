/** The answers the console reads: inferred from the admin API's own zod schemas (src/admin/responses.ts), never restated. */
import type { z } from "zod";
import type { AlertPage, Contact, ContactErased, DeliveryPage, EventPage, Jobs, Message, Stats } from "../src/admin/responses";

export type Envelope = z.infer<typeof EventPage>["data"][number];
export type EventList = z.infer<typeof EventPage>;
export type DeliveryList = z.infer<typeof DeliveryPage>;
export type AlertList = z.infer<typeof AlertPage>;
export type ContactAnswer = z.infer<typeof Contact>;
export type ErasedAnswer = z.infer<typeof ContactErased>;
export type MessageAnswer = z.infer<typeof Message>;
export type StatsAnswer = z.infer<typeof Stats>;
export type JobsAnswer = z.infer<typeof Jobs>;

/** GET /v1/stats/days: one UTC day's counts. */
export interface DayCounts {
  day: string;
  events: Record<string, number>;
  statuses: Record<string, number>;
  failed_by_code: { code: number | null; messages: number }[];
  billable: Record<string, number>;
  deliveries: Record<string, { delivered: number; dead: number }>;
  sms: Record<string, number>;
}
