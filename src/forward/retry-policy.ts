/**
 * What happens to a delivery after an attempt: pure, so the schedule is unit-tested
 * without sleeping. Exponential schedule with full jitter (each wait is uniform in
 * [0, step]), Retry-After honoured on 429/503 up to the schedule's longest step, 410
 * Gone disables the delivery.
 */
import type { DeliveryOutcome } from "../domain/delivery";

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
  if ((result.status === 429 || result.status === 503) && result.retryAfterMs !== null) wait = Math.max(wait, honouredRetryAfter(result.retryAfterMs, scheduleMs));
  return { state: "pending", nextAttemptAt: now + wait };
}

/**
 * A receiver's Retry-After, capped at the longest step of its retry_schedule: the longest
 * wait between two attempts the operator already accepts, so no answer can make a wait
 * longer than the schedule itself could, and the attempts still run out.
 * Not the SMS sender's 1 h: a hook has no not_after, and its schedule waits up to 10 h by
 * default. Asking for more (`Retry-After: 999999`, 11.6 days) is a receiver that is down.
 */
export const honouredRetryAfter = (retryAfterMs: number, scheduleMs: readonly number[]): number => Math.min(retryAfterMs, Math.max(...scheduleMs));

/** Retry-After as delay-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(header: string | null, now: number): number | null {
  if (header === null || header.trim() === "") return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
