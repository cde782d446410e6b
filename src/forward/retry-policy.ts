/**
 * What happens to a delivery after an attempt: pure, so the schedule is unit-tested
 * without sleeping. Exponential schedule with full jitter (each wait is uniform in
 * [0, step]), Retry-After honoured on 429/503, 410 Gone disables the delivery.
 */
export type DeliveryOutcome =
  | { state: "done" }
  | { state: "pending"; nextAttemptAt: number }
  | { state: "dead" }
  | { state: "disabled" };

export interface AttemptResult {
  status: number | null; // null: no HTTP answer (connection refused, timeout)
  retryAfterMs: number | null;
}

export function decideDelivery(attempt: number, result: AttemptResult, scheduleMs: readonly number[], now: number, random: () => number): DeliveryOutcome {
  if (result.status !== null && result.status >= 200 && result.status < 300) return { state: "done" };
  if (result.status === 410) return { state: "disabled" };
  const step = scheduleMs[attempt - 1];
  if (step === undefined) return { state: "dead" };
  let wait = Math.floor(random() * step);
  if ((result.status === 429 || result.status === 503) && result.retryAfterMs !== null) wait = Math.max(wait, result.retryAfterMs);
  return { state: "pending", nextAttemptAt: now + wait };
}

/** Retry-After as delay-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(header: string | null, now: number): number | null {
  if (header === null || header.trim() === "") return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
