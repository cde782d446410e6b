/** The answers the console reads: inferred from the admin API's own zod schemas (src/admin/responses.ts), never restated. */
import type { z } from "zod";
import type { AlertPage, Contact, ContactErased, DeliveryPage, EventDetail, EventPage, Jobs, Message, Stats, StatsDays } from "../src/admin/responses";

export type Envelope = z.infer<typeof EventPage>["data"][number];
export type EventList = z.infer<typeof EventPage>;
export type EventAnswer = z.infer<typeof EventDetail>;
export type DeliveryList = z.infer<typeof DeliveryPage>;
export type AlertList = z.infer<typeof AlertPage>;
export type ContactAnswer = z.infer<typeof Contact>;
export type ErasedAnswer = z.infer<typeof ContactErased>;
export type MessageAnswer = z.infer<typeof Message>;
export type StatsAnswer = z.infer<typeof Stats>;
export type JobsAnswer = z.infer<typeof Jobs>;

/** GET /v1/stats/days: one UTC day's counts. */
export type DayCounts = z.infer<typeof StatsDays>["days"][number];
