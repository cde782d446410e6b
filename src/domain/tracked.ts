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
  /** The business number it was sent from (its statuses' metadata); null until a status says. */
  phone_number_id: string | null;
}

/** A tracked message the stale sweep takes: its row, and whether the app registered it (POST /v1/outbound). */
export type DueRow = TrackedRow & { registered: boolean };

/** An SMS queued for a tracked message (fallback_sends). */
export interface FallbackSendRow {
  wamid: string;
  /** pending | sending | sent | failed | unknown | cancelled | shadow | expired (taken past not_after: never sent) */
  state: string;
  recipient: string;
  text: string;
  reason: string;
  error_code: number | null;
  category: string | null;
  attempts: number;
  next_attempt_at: number;
  lease_token: string | null;
  provider_status: number | null;
  provider_response: string | null;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}

/**
 * A claimed SMS, with its message's expiry (no attempt is made or scheduled past it), and
 * `retaken` = 1 when it was the claim of a run that stopped mid-request: that request may
 * have reached the provider.
 */
export type ClaimedSend = FallbackSendRow & { expires_at: number | null; retaken: 0 | 1 };

/** `why`: the next attempt waits other than retry_schedule says (the message's timeline tells it). */
export type SendOutcome = { state: "sent" | "failed" | "unknown" | "pending"; status: number | null; response: string | null; error: string | null; retryAt: number | null; why?: string };

/** Past the message's not_after no SMS may go; at it, the last one still may. */
export const pastNotAfter = (expiresAt: number | null, now: number): boolean => expiresAt !== null && now > expiresAt;
