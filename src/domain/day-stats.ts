/**
 * What GET /v1/stats/days shows, as an engine reads it: counts per UTC day (days since
 * the epoch, so neither engine formats dates) and key. Both engines fill it; the answer
 * is built from it in one place (admin/stats-days.ts).
 */
import type { StatKind } from "./stats";

export const DAY_MS = 86_400_000;

/** The per-minute counts the daily view reads, each with what its key is. */
export const DAILY_KINDS = ["event", "status", "failed", "billable", "delivered"] as const satisfies readonly StatKind[];
export type DailyKind = (typeof DAILY_KINDS)[number];

/** SMS states that are an outcome (pending and sending are not yet one). */
export const SMS_OUTCOMES = ["sent", "failed", "unknown", "cancelled", "expired", "shadow"] as const;

/** `n` of `key` on day `day` (unix ms / DAY_MS). */
export interface DayCount {
  day: number;
  key: string;
  n: number;
}

export interface DaysFigures {
  /** Sums of the per-minute counts: event type, status, error code, pricing category, hook. */
  counts: (DayCount & { kind: DailyKind })[];
  /** Deliveries that are dead, by the day they became so (updated_at) and hook. */
  dead: DayCount[];
  /** SMS by the day of their outcome (updated_at) and state, outcomes only. */
  sms: DayCount[];
}
