/**
 * The `fallback` job: sends due SMS through the provider hook. Exactly one SMS per
 * wamid: the row (primary key wamid) is claimed with a lease and a token in one
 * transaction, sent with `Idempotency-Key: <wamid>`, and finalized only by the
 * token's holder. A claim left by a crash is taken again when its lease expires and
 * sent with the same key. A timeout after the request went out is `unknown`: never
 * resent blindly (POST /v1/outbound/{wamid}/fallback resolves it).
 */
import { metrics } from "../metrics/catalogue";
import type { Database } from "bun:sqlite";
import type { Alerter } from "../alerts/alerter";
import { smsFailingAlert } from "../alerts/rules";
import { parseDuration } from "../config/duration";
import { responsePrefix } from "../forward/response-prefix";
import type { Clock } from "../util/clock";
import { leaseToken } from "../util/ids";
import type { Logger } from "../util/log";
import { VERSION } from "../version";
import { smsRequest, type SmsSettings } from "./sms-request";
import type { Tracker } from "./tracker";
import type { FallbackSendRow } from "../store/tracking-store";
import type { GiveWay } from "../worker/share";

const RESPONSE_KEEP_BYTES = 1024;

export type SendOutcome = { state: "sent" | "failed" | "unknown" | "pending"; status: number | null; response: string | null; error: string | null; retryAt: number | null };

export interface SendResult {
  claimed: number;
  sent: number;
  failed: number;
  unknown: number;
  retrying: number;
}

/** What an attempt's answer means (pure): 2xx sent, 4xx final (but 408 and 429), 5xx retried until the schedule runs out. */
export function classifyAnswer(status: number, attempts: number, retrySchedule: readonly string[], now: number): Pick<SendOutcome, "state" | "retryAt"> {
  if (status >= 200 && status < 300) return { state: "sent", retryAt: null };
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return { state: "failed", retryAt: null };
  return retryOrFail(attempts, retrySchedule, now);
}

export function retryOrFail(attempts: number, retrySchedule: readonly string[], now: number): Pick<SendOutcome, "state" | "retryAt"> {
  const wait = retrySchedule[attempts - 1];
  return wait === undefined ? { state: "failed", retryAt: null } : { state: "pending", retryAt: now + parseDuration(wait)! };
}

/** Who hears that the provider keeps failing, and after how many attempts in a row. */
export interface FailureAlert {
  alerter: Alerter;
  after: number;
}

export class FallbackSender {
  readonly #claim;
  readonly #finishAll;
  /** Attempts without a 2xx since the last one with (in memory: a restart starts over). */
  #streak = { failures: 0, since: 0 };

  constructor(
    db: Database,
    private readonly tracker: Tracker,
    private readonly sms: SmsSettings,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly instance: string,
    private readonly failureAlert: FailureAlert | null = null,
    private readonly giveWay: GiveWay = () => Bun.sleep(0),
  ) {
    this.#claim = db.transaction((token: string, leaseUntil: number, now: number, limit: number) => {
      const rows = tracker.store.claimSends(token, leaseUntil, now, limit);
      for (const row of rows) tracker.markSending(row.wamid, now);
      return rows;
    });
    this.#finishAll = db.transaction((rows: FallbackSendRow[], token: string, outcomes: SendOutcome[], now: number) =>
      rows.map((row, i) => {
        const o = outcomes[i]!;
        if (!tracker.store.finishSend(row.wamid, token, o, now)) return false;
        if (o.state !== "pending") tracker.recordSend(row.wamid, o.state, now);
        return true;
      }),
    );
  }

  /** Sends every due SMS, `concurrency` requests at a time (a round claims that many). */
  async run(concurrency: number): Promise<SendResult> {
    const result: SendResult = { claimed: 0, sent: 0, failed: 0, unknown: 0, retrying: 0 };
    for (;;) {
      const claimed = await this.#round(concurrency, result);
      if (claimed < concurrency) return result;
    }
  }

  async #round(limit: number, result: SendResult): Promise<number> {
    const now = this.clock.now();
    const timeoutMs = parseDuration(this.sms.timeout)!;
    const token = leaseToken(this.instance);
    // The lease outlives the request's timeout, so a live send is never taken twice.
    let started = performance.now();
    const rows = this.#claim.immediate(token, now + timeoutMs + 30_000, now, limit);
    let worked = performance.now() - started;
    result.claimed += rows.length;
    const outcomes = await Promise.all(rows.map((row) => this.#attempt(row, timeoutMs)));
    // Recorded together: one commit (one fsync) per round, not per SMS. A crash before it
    // leaves the round claimed; it goes again after the lease, with the same keys.
    started = performance.now();
    const finished = this.#finishAll.immediate(rows, token, outcomes, this.clock.now());
    rows.forEach((row, i) => {
      const outcome = outcomes[i]!;
      if (!finished[i]) return this.log.warn("fallback lease lost before the outcome was recorded", { wamid: row.wamid });
      const counted = outcome.state === "pending" ? "retrying" : outcome.state;
      result[counted]++;
      metrics.inc("wa_fallback_sms_total", { outcome: counted });
      this.#count(outcome);
      // No text; the number shows as the logger's keyed hash.
      this.log.info("sms fallback attempt", { wamid: row.wamid, to: row.recipient, outcome: outcome.state, provider_status: outcome.status, attempt: row.attempts, error: outcome.error });
    });
    worked += performance.now() - started;
    if (rows.length === limit) await this.giveWay(worked);
    return rows.length;
  }

  #count(outcome: SendOutcome) {
    if (outcome.state === "sent") return void (this.#streak = { failures: 0, since: 0 });
    const now = this.clock.now();
    if (this.#streak.failures === 0) this.#streak.since = now;
    this.#streak.failures++;
    const alert = this.failureAlert;
    if (alert && this.#streak.failures === alert.after) alert.alerter.raise(smsFailingAlert(this.#streak.since, this.#streak.failures, outcome.error), now);
  }

  async #attempt(row: FallbackSendRow, timeoutMs: number): Promise<SendOutcome> {
    const req = smsRequest(this.sms, { to: row.recipient, text: row.text, wamid: row.wamid, reason: row.reason, error_code: row.error_code, category: row.category });
    let res: Response;
    try {
      res = await fetch(req.url, {
        method: req.method,
        body: req.body,
        headers: { ...req.headers, "user-agent": `wa-webhookd/${VERSION}`, "accept-encoding": "identity" },
        signal: AbortSignal.timeout(timeoutMs),
        redirect: "manual",
      });
    } catch (err) {
      const e = err as Error;
      // Timed out: the provider may have the request and may have sent the SMS. Not resent.
      if (e.name === "TimeoutError" || e.name === "AbortError") return { state: "unknown", status: null, response: null, error: `no answer within ${this.sms.timeout}`, retryAt: null };
      // Refused, reset, DNS: nothing was accepted; try again per the schedule.
      return { ...retryOrFail(row.attempts, this.sms.retry_schedule, this.clock.now()), status: null, response: null, error: e.message };
    }
    const response = await responsePrefix(res, RESPONSE_KEEP_BYTES).catch(() => null);
    const verdict = classifyAnswer(res.status, row.attempts, this.sms.retry_schedule, this.clock.now());
    return { ...verdict, status: res.status, response, error: verdict.state === "sent" ? null : `provider answered ${res.status}` };
  }
}
