/** What the per-minute counts count (migrations/0009; GET /v1/stats sums them). */
export type StatKind = "event" | "duplicate" | "status" | "failed" | "billable" | "delivered";

/** Failures counted by error code (the key; '' when none), most frequent first. */
export const failuresByCode = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([code, n]) => ({ code: /^[0-9]+$/.test(code) ? Number(code) : null, n }))
    .sort((a, b) => b.n - a.n);

/** Billable messages per UTC day and pricing category (the key; '' when none). */
export const billableByDay = (rows: readonly { day: string; key: string; n: number }[]) => rows.map((r) => ({ day: r.day, category: r.key === "" ? null : r.key, n: r.n }));

/** What GET /v1/stats shows, as an engine read it (numbers, unix ms). */
export interface StatsFigures {
  inbox: Record<string, number>;
  lagMs: number;
  hooks: { name: string; deliveredLastDay: number; open: Record<string, number>; oldestOpenAt: number | null }[];
  /** Open deliveries of hooks the daemon does not run, by hook and state. */
  orphaned: Record<string, Record<string, number>>;
  eventsLastHour: Record<string, number>;
  eventsLastDay: Record<string, number>;
  duplicatesLastDay: number;
  statusesLastDay: Record<string, number>;
  failedByCode: { code: number | null; n: number }[];
  billable: { day: string; category: string | null; n: number }[];
  tracked: Record<string, number>;
  sms: Record<string, number>;
}
