/** Deliveries not finished (done or cancelled): a hook's backlog, and what a removed hook leaves orphaned. */
export const OPEN_DELIVERY_STATES = ["pending", "delivering", "dead", "disabled"] as const;

/** A delivery's next state after an attempt (forward/retry-policy.ts decides it; a storage engine records it). */
export type DeliveryOutcome =
  | { state: "done" }
  | { state: "pending"; nextAttemptAt: number }
  | { state: "dead" }
  | { state: "disabled" };

/** A delivery claimed for an attempt, with the envelope to POST. */
export interface ClaimedDelivery {
  id: number;
  event_id: string;
  attempts: number;
  envelope: string;
}

/** One attempt's outcome, to record while its lease holds. */
/** A delivery the dispatcher gave up, as an alert tells it: `gone` when the hook answered 410 (disabled, not retried). */
export interface GivenUp {
  hook: string;
  eventId: string;
  reason: string | null;
  gone: boolean;
}

export interface RecordedOutcome {
  id: number;
  hook: string;
  eventId: string;
  token: string;
  outcome: DeliveryOutcome;
  last: { status: number | null; error: string | null; response: string | null };
  at: number;
}
