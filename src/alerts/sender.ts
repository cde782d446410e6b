/**
 * The `alerts` job: POSTs due alerts to [alerts] url, retried like hook deliveries
 * (forward/retry-policy.ts: the schedule with jitter, Retry-After, 410 gives up).
 * Claimed with a lease and token; a crash mid-send sends again after the lease (an
 * alert may arrive twice then, never not at all).
 */
import { metrics } from "../metrics/catalogue";
import { parseDuration } from "../config/duration";
import type { AlertSettings } from "../config/schema";
import { decideDelivery, parseRetryAfter } from "../forward/retry-policy";
import { responsePrefix } from "../forward/response-prefix";
import type { AlertQueue } from "../engine/fallback";
import type { Clock } from "../util/clock";
import { leaseToken } from "../util/ids";
import type { Logger } from "../util/log";
import { VERSION } from "../version";
import { withDeadline } from "../util/deadline";
import { alertBody } from "./format";
import type { AlertOutcome, AlertRow } from "../domain/alert";

export class AlertSender {
  readonly #timeoutMs: number;
  readonly #scheduleMs: number[];

  constructor(
    private readonly queue: AlertQueue,
    private readonly settings: AlertSettings & { url: string },
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly instance: string,
    private readonly random: () => number = Math.random,
  ) {
    this.#timeoutMs = parseDuration(settings.timeout)!;
    this.#scheduleMs = settings.retry_schedule.map((d) => parseDuration(d)!);
  }

  async run(limit: number): Promise<{ claimed: number; sent: number; retrying: number; dead: number }> {
    const now = this.clock.now();
    const token = leaseToken(this.instance);
    const rows = await this.queue.claim(token, now + this.#timeoutMs + 30_000, now, limit);
    const result = { claimed: rows.length, sent: 0, retrying: 0, dead: 0 };
    await Promise.all(
      rows.map(async (row) => {
        const outcome = await this.#attempt(row);
        await this.queue.finish(row.id, token, outcome, this.clock.now());
        const counted = outcome.state === "pending" ? "retrying" : outcome.state;
        result[counted]++;
        metrics.inc("wa_alerts_total", { outcome: counted });
        // The receiver's answer may echo the alert back; it stays in the database, out of the log.
        const error = outcome.status === null ? outcome.error : `HTTP ${outcome.status}`;
        if (outcome.state !== "sent") this.log.warn("alert not sent", { alert_id: row.id, kind: row.kind, attempt: row.attempts, status: outcome.status, error, outcome: outcome.state });
      }),
    );
    return result;
  }

  async #attempt(row: AlertRow): Promise<AlertOutcome> {
    let status: number | null = null;
    let retryAfterMs: number | null = null;
    let error: string | null = null;
    try {
      await withDeadline(this.#timeoutMs, async (signal) => {
        const res = await fetch(this.settings.url, {
          method: "POST",
          body: alertBody(this.settings.format, row),
          headers: { "content-type": "application/json", "user-agent": `wa-webhookd/${VERSION}`, "accept-encoding": "identity", "idempotency-key": `alert-${row.dedup_key}`, ...this.settings.headers },
          signal,
          redirect: "manual",
        });
        status = res.status;
        retryAfterMs = parseRetryAfter(res.headers.get("retry-after"), this.clock.now());
        const answer = await responsePrefix(res, 200).catch(() => null);
        if (status < 200 || status >= 300) error = `HTTP ${status}${answer ? `: ${answer}` : ""}`;
      });
    } catch (err) {
      const e = err as Error;
      error = e.name === "TimeoutError" ? `timed out after ${this.settings.timeout}` : e.message;
    }
    const decided = decideDelivery(row.attempts, { status, retryAfterMs }, this.#scheduleMs, this.clock.now(), this.random);
    if (decided.state === "done") return { state: "sent", status, error: null };
    if (decided.state === "pending") return { state: "pending", status, error, retryAt: decided.nextAttemptAt };
    return { state: "dead", status, error };
  }
}
