/** What the per-minute counts count (migrations/0009; GET /v1/stats sums them). */
export type StatKind = "event" | "duplicate" | "status" | "failed" | "billable" | "delivered";
