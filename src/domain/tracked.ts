/** An outbound message watched for SMS fallback: its row, as the state machine (sweeper/transitions.ts) moves it and the store keeps it. */
export type TrackedState =
  | "tracked"
  | "done"
  | "fallback_pending"
  | "cancelled_delivered"
  | "sending"
  | "fallback_sent"
  | "fallback_failed"
  | "unknown"
  | "late_delivered"
  | "expired_unsent"
  | "not_sent"
  | "no_text"
  | "shadowed";

export interface TrackedRow {
  wamid: string;
  recipient: string | null;
  text: string | null;
  category: string | null;
  stale_after_ms: number | null;
  not_after_ms: number | null;
  fallback: "auto" | "never";
  sent_at: number | null;
  registered_at: number | null;
  delivered_at: number | null;
  deadline: number | null;
  expires_at: number | null;
  state: TrackedState;
  reason: "stale" | "failed" | null;
  error_code: number | null;
}
