/**
 * The `fallback` job: sends due SMS through the provider hook. Exactly one SMS per
 * wamid: the row (primary key wamid) is claimed with a lease and a token in one
 * transaction, sent with `Idempotency-Key: <wamid>`, and finalized only by the
 * token's holder. A claim left by a crash is taken again when its lease expires and
 * sent with the same key. A timeout after the request went out is `unknown`: never
 * resent blindly (POST /v1/outbound/{wamid}/fallback resolves it). Nothing is sent past
 * the message's not_after: a claim that comes later (the daemon was down) is refused.
 */
import { metrics } from "../metrics/catalogue";
import type { AlertDraft } from "../domain/alert";
import type { SendQueue } from "../engine/fallback";
import { smsFailingAlert } from "../alerts/rules";
import { parseDuration } from "../config/duration";
import { responsePrefix } from "../forward/response-prefix";
import { parseRetryAfter } from "../forward/retry-policy";
import type { Clock } from "../util/clock";
import { leaseToken } from "../util/ids";
import type { Logger } from "../util/log";
import { VERSION } from "../version";
import { withDeadline } from "../util/deadline";
import { smsRequest, type SmsSettings } from "./sms-request";
import { MAX_RETRY_AFTER, MAX_RETRY_AFTER_MS } from "../domain/fallback-limits";
import type { GiveWay } from "../worker/share";
import type { ClaimedSend, SendOutcome } from "../domain/tracked";

const RESPONSE_KEEP_BYTES = 1024;
/**
 * The last attempt a wait may be cut to is this long before not_after: the sender is
 * woken for it (`wake`), and the request then has time to leave before the SMS is no use.
 */
export const LAST_ATTEMPT_LEAD_MS = 1_000;

type Verdict = Pick<SendOutcome, "state" | "retryAt" | "why">;

/** What bounds the next attempt: the provider's Retry-After, the message's not_after. */
export interface Bounds {
  retryAfterMs?: number | null;
  expiresAt?: number | null;
}

export interface SendResult {
  claimed: number;
  sent: number;
  failed: number;
  unknown: number;
  retrying: number;
  /** Claimed past not_after: not sent (no request, not a provider failure). */
  expired: number;
}

/**
 * What an attempt's answer means (pure): 2xx sent, 4xx final (but 408 and 429), 5xx
 * retried until the schedule runs out. Retry-After is honoured on 429 and 503, as for hooks.
 */
export function classifyAnswer(status: number, attempts: number, retrySchedule: readonly string[], now: number, bounds: Bounds = {}): Verdict {
  if (status >= 200 && status < 300) return { state: "sent", retryAt: null };
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return { state: "failed", retryAt: null };
  const honoured = status === 429 || status === 503;
  return retryOrFail(attempts, retrySchedule, now, { expiresAt: bounds.expiresAt, retryAfterMs: honoured ? bounds.retryAfterMs : null });
}

/**
 * The next attempt: after the schedule's step, or later when the provider asked
 * (Retry-After, at most MAX_RETRY_AFTER), but never past the message's not_after: an
 * SMS is no use after it. A wait that would end later is cut to the last attempt, a
 * second before it; failing at or after that moment, or with the schedule used up: failed.
 */
export function retryOrFail(attempts: number, retrySchedule: readonly string[], now: number, bounds: Bounds = {}): Verdict {
  const step = retrySchedule[attempts - 1];
  const expiresAt = bounds.expiresAt ?? null;
  if (step === undefined) return { state: "failed", retryAt: null };
  if (expiresAt !== null && expiresAt <= now) return { state: "failed", retryAt: null, why: "not retried: past not_after" };
  const scheduled = parseDuration(step)!;
  const asked = bounds.retryAfterMs ?? null;
  let wait = scheduled;
  let why: string | undefined;
  if (asked !== null && asked > scheduled) {
    wait = Math.min(asked, MAX_RETRY_AFTER_MS);
    why = `the provider asked to wait ${Math.ceil(asked / 1000)} s (Retry-After)${asked > MAX_RETRY_AFTER_MS ? `; waiting ${MAX_RETRY_AFTER}, the longest honoured` : ""}`;
  }
  const lastAttempt = expiresAt === null ? null : expiresAt - LAST_ATTEMPT_LEAD_MS;
  if (lastAttempt !== null && now + wait > lastAttempt) {
    if (now >= lastAttempt) return { state: "failed", retryAt: null, why: "not retried: this was the last attempt before not_after" };
    return { state: "pending", retryAt: lastAttempt, why: `${why ?? `retry_schedule says ${step}`}; cut to 1 s before not_after, the last attempt` };
  }
  return { state: "pending", retryAt: now + wait, ...(why ? { why } : {}) };
}

/** Who hears that the provider keeps failing, and after how many attempts in a row. */
export interface FailureAlert {
  alerter: { raise(draft: AlertDraft, now: number): unknown };
  after: number;
}

export class FallbackSender {
  /** Attempts without a 2xx since the last one with (in memory: a restart starts over). */
  #streak = { failures: 0, since: 0 };

  constructor(
    private readonly queue: SendQueue,
    private readonly sms: SmsSettings,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly instance: string,
    private readonly failureAlert: FailureAlert | null = null,
    private readonly giveWay: GiveWay = () => Bun.sleep(0),
    /** Asked after each run for the next retry's time: a retry cut to just before not_after must not wait for the schedule. */
    private readonly wake: (at: number) => void = () => {},
  ) {}

  /** Sends every due SMS, `concurrency` requests at a time (a round claims that many). */
  async run(concurrency: number): Promise<SendResult> {
    const result: SendResult = { claimed: 0, sent: 0, failed: 0, unknown: 0, retrying: 0, expired: 0 };
    for (;;) {
      const claimed = await this.#round(concurrency, result);
      if (claimed < concurrency) break;
    }
    const next = await this.queue.nextAttemptAt();
    if (next !== null) this.wake(next);
    return result;
  }

  async #round(limit: number, result: SendResult): Promise<number> {
    const now = this.clock.now();
    const timeoutMs = parseDuration(this.sms.timeout)!;
    const token = leaseToken(this.instance);
    // The lease outlives the request's timeout, so a live send is never taken twice.
    let started = performance.now();
    const { rows, refused } = await this.queue.claim(token, now + timeoutMs + 30_000, now, limit);
    let worked = performance.now() - started;
    result.claimed += rows.length + refused;
    result.expired += refused;
    const outcomes = await Promise.all(rows.map((row) => this.#attempt(row, timeoutMs)));
    // Recorded together: one commit (one fsync) per round, not per SMS. A crash before it
    // leaves the round claimed; it goes again after the lease, with the same keys.
    started = performance.now();
    const finished = await this.queue.finish(rows, token, outcomes, this.clock.now());
    rows.forEach((row, i) => {
      const outcome = outcomes[i]!;
      if (!finished[i]) return this.log.warn("fallback lease lost before the outcome was recorded", { wamid: row.wamid });
      const counted = outcome.state === "pending" ? "retrying" : outcome.state;
      result[counted]++;
      metrics.inc("wa_fallback_sms_total", { outcome: counted });
      this.#count(outcome);
      // No text; the number shows as the logger's keyed hash.
      this.log.info("sms fallback attempt", { wamid: row.wamid, to: row.recipient, outcome: outcome.state, provider_status: outcome.status, attempt: row.attempts, error: outcome.error, ...(outcome.why ? { why: outcome.why } : {}) });
    });
    worked += performance.now() - started;
    if (rows.length + refused === limit) await this.giveWay(worked);
    return rows.length + refused;
  }

  #count(outcome: SendOutcome) {
    if (outcome.state === "sent") return void (this.#streak = { failures: 0, since: 0 });
    const now = this.clock.now();
    if (this.#streak.failures === 0) this.#streak.since = now;
    this.#streak.failures++;
    const alert = this.failureAlert;
    if (alert && this.#streak.failures === alert.after) alert.alerter.raise(smsFailingAlert(this.#streak.since, this.#streak.failures, outcome.error), now);
  }

  async #attempt(row: ClaimedSend, timeoutMs: number): Promise<SendOutcome> {
    const req = smsRequest(this.sms, { to: row.recipient, text: row.text, wamid: row.wamid, reason: row.reason, error_code: row.error_code, category: row.category });
    return withDeadline(timeoutMs, async (signal) => {
      let res: Response;
      try {
        res = await fetch(req.url, {
          method: req.method,
          body: req.body,
          headers: { ...req.headers, "user-agent": `wa-webhookd/${VERSION}`, "accept-encoding": "identity" },
          signal,
          redirect: "manual",
        });
      } catch (err) {
        const e = err as Error;
        // Timed out: the provider may have the request and may have sent the SMS. Not resent.
        if (e.name === "TimeoutError" || e.name === "AbortError") return { state: "unknown", status: null, response: null, error: `no answer within ${this.sms.timeout}`, retryAt: null };
        // Refused, reset, DNS: nothing was accepted; try again per the schedule.
        return outcome(retryOrFail(row.attempts, this.sms.retry_schedule, this.clock.now(), { expiresAt: row.expires_at }), null, null, e.message);
      }
      const response = await responsePrefix(res, RESPONSE_KEEP_BYTES).catch(() => null);
      const now = this.clock.now();
      const verdict = classifyAnswer(res.status, row.attempts, this.sms.retry_schedule, now, { expiresAt: row.expires_at, retryAfterMs: parseRetryAfter(res.headers.get("retry-after"), now) });
      return outcome(verdict, res.status, response, verdict.state === "sent" ? null : `provider answered ${res.status}`);
    });
  }
}

/** A final failure says why it stopped early ("not retried: past not_after"); a wait's why goes on the timeline. */
function outcome(verdict: Verdict, status: number | null, response: string | null, error: string | null): SendOutcome {
  const stopped = verdict.state === "failed" && verdict.why !== undefined;
  return { ...verdict, status, response, error: stopped ? `${error}; ${verdict.why}` : error };
}
