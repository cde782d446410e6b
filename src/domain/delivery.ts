/** A delivery's next state after an attempt (forward/retry-policy.ts decides it; a storage engine records it). */
export type DeliveryOutcome =
  | { state: "done" }
  | { state: "pending"; nextAttemptAt: number }
  | { state: "dead" }
  | { state: "disabled" };
