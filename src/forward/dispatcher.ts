/**
 * Delivers events to hooks. Each hook has its own concurrency slots and its own
 * queue in SQLite, so a dead or slow hook never delays a healthy one. Every attempt
 * POSTs the stored envelope, signed per Standard Webhooks with a fresh timestamp;
 * the webhook-id is the event id, the same on every retry and replay.
 */
import { statsStore } from "../store/stats-store";
import { metrics } from "../metrics/catalogue";
import type { Database } from "bun:sqlite";
import type { Hook } from "../config/schema";
import { parseDuration } from "../config/duration";
import { deliveryStore, type ClaimedDelivery } from "../store/delivery-store";
import type { Clock } from "../util/clock";
import { leaseToken } from "../util/ids";
import type { Logger } from "../util/log";
import { VERSION } from "../version";
import type { TrafficCounter, TrafficMeter } from "../worker/traffic";
import { decideDelivery, parseRetryAfter, type AttemptResult, type DeliveryOutcome } from "./retry-policy";
import { responsePrefix } from "./response-prefix";
import { standardHeaders } from "./standard-webhooks";

const RESPONSE_KEEP_BYTES = 1024;

export interface DispatcherOptions {
  /** Owner name put in lease tokens (hostname by default). */
  instance: string;
  hooks: readonly Hook[];
  clock: Clock;
  log: Logger;
  /** Jitter source; tests pin it to make the schedule exact. */
  random?: () => number;
  /** Counts outcomes for the traffic summary line. */
  meter?: TrafficMeter;
  /** Told, in the transaction that records it, when a delivery is given up (alerts). */
  onGivenUp?: (hook: string, eventId: string, reason: string | null, now: number) => void;
}

const METER_COUNTER: Record<DeliveryOutcome["state"], TrafficCounter> = { done: "delivered", pending: "failed", dead: "dead", disabled: "dead" };

interface Finished {
  id: number;
  hook: string;
  eventId: string;
  token: string;
  outcome: DeliveryOutcome;
  last: { status: number | null; error: string | null; response: string | null };
  at: number;
}

interface HookRuntime {
  hook: Hook;
  secrets: string[];
  timeoutMs: number;
  scheduleMs: number[];
  active: Set<Promise<void>>;
}

export class Dispatcher {
  readonly #store;
  readonly #stats;
  readonly #hooks: HookRuntime[];
  readonly #opts: DispatcherOptions;
  readonly #db: Database;
  /** Results waiting to be written; recorded together, in one transaction, at the next tick. */
  #finished: Finished[] = [];

  constructor(db: Database, options: DispatcherOptions) {
    this.#store = deliveryStore(db);
    this.#stats = statsStore(db).tally();
    this.#db = db;
    this.#opts = options;
    this.#hooks = options.hooks.map((hook) => ({
      hook,
      secrets: hook.secrets ?? [hook.secret!],
      timeoutMs: parseDuration(hook.timeout)!,
      scheduleMs: hook.retry_schedule.map((d) => parseDuration(d)!),
      active: new Set(),
    }));
  }

  /** Deliveries an earlier, crashed run of this instance had in flight are due again now. */
  recoverLeases(): number {
    return this.#store.recoverLeases(this.#opts.instance, this.#opts.clock.now());
  }

  /**
   * Records finished attempts, then starts as many due deliveries as each hook has
   * free slots; returns how many started (and recorded).
   */
  tick(): number {
    if (this.#hooks.length === 0) return 0;
    const now = this.#opts.clock.now();
    // Recording results and claiming new work share one transaction: one fsync per pass.
    const { recorded, claims } = this.#db
      .transaction(() => ({
        recorded: this.#recordFinished(),
        claims: this.#hooks.map((rt) => {
          const free = rt.hook.concurrency - rt.active.size;
          if (free <= 0) return { rt, token: "", claimed: [] };
          const token = leaseToken(this.#opts.instance);
          // The lease outlives the request timeout, so an expired lease means a crashed attempt.
          return { rt, token, claimed: this.#store.claim(rt.hook.name, token, now + rt.timeoutMs + 30_000, now, free) };
        }),
      }))
      .immediate();
    let started = 0;
    for (const { rt, token, claimed } of claims) {
      for (const delivery of claimed) {
        const p = this.#attempt(rt, delivery, token).finally(() => rt.active.delete(p));
        rt.active.add(p);
        started++;
      }
    }
    return started + recorded;
  }

  /** Resolves as soon as any attempt in flight finishes (at once when none is). */
  anySettled(): Promise<void> {
    const active = this.#hooks.flatMap((rt) => [...rt.active]);
    return active.length === 0 ? Promise.resolve() : Promise.race(active);
  }

  get inFlight(): number {
    return this.#hooks.reduce((n, rt) => n + rt.active.size, 0);
  }

  /** Resolves when every attempt started so far has finished. */
  async idle(): Promise<void> {
    while (this.#hooks.some((rt) => rt.active.size > 0)) {
      await Promise.all(this.#hooks.flatMap((rt) => [...rt.active]));
    }
  }

  /** Ticks until nothing is due and nothing is in flight (tests, replay). */
  async drain(): Promise<void> {
    while (this.tick() > 0 || this.#hooks.some((rt) => rt.active.size > 0)) await this.idle();
  }

  /** Writes every finished attempt in one transaction (one fsync for many deliveries). */
  flush(): number {
    return this.#finished.length === 0 ? 0 : this.#db.transaction(() => this.#recordFinished()).immediate();
  }

  #recordFinished(): number {
    const batch = this.#finished;
    this.#finished = [];
    this.#stats.undo(0); // what a rolled-back earlier call counted
    for (const f of batch) {
      if (!this.#store.finish(f.id, f.token, f.outcome, f.last, f.at)) continue;
      if (f.outcome.state === "done") this.#stats.add("delivered", f.at, f.hook);
      if (f.outcome.state === "dead" || f.outcome.state === "disabled") this.#opts.onGivenUp?.(f.hook, f.eventId, f.last.error, f.at);
    }
    // One row write per hook and minute for the whole batch, in the caller's transaction.
    this.#stats.flush();
    return batch.length;
  }

  async #attempt(rt: HookRuntime, d: ClaimedDelivery, token: string) {
    const started = this.#opts.clock.now();
    const result = await this.#post(rt, d);
    const now = this.#opts.clock.now();
    const outcome = decideDelivery(d.attempts, result, rt.scheduleMs, now, this.#opts.random ?? Math.random);
    this.#finished.push({ id: d.id, hook: rt.hook.name, eventId: d.event_id, token, outcome, last: { status: result.status, error: result.error, response: result.response }, at: now });
    this.#opts.meter?.add(METER_COUNTER[outcome.state]);
    metrics.inc("wa_deliveries_total", { hook: rt.hook.name, outcome: outcome.state });
    this.#opts.log.debug("delivery attempt", { hook: rt.hook.name, event_id: d.event_id, attempt: d.attempts, status: result.status, outcome: outcome.state, ms: now - started });
    if (outcome.state !== "done") {
      const level = outcome.state === "pending" ? "warn" : "error";
      this.#opts.log[level]("delivery attempt failed", {
        hook: rt.hook.name,
        event_id: d.event_id,
        attempt: d.attempts,
        status: result.status,
        error: result.error,
        outcome: outcome.state,
        ...(outcome.state === "pending" ? { next_attempt_at: new Date(outcome.nextAttemptAt).toISOString() } : {}),
      });
    }
  }

  async #post(rt: HookRuntime, d: ClaimedDelivery): Promise<AttemptResult & { error: string | null; response: string | null }> {
    const timestampSec = Math.floor(this.#opts.clock.now() / 1000);
    try {
      const res = await fetch(rt.hook.url, {
        method: "POST",
        body: d.envelope,
        headers: {
          "content-type": "application/json",
          "user-agent": `wa-webhookd/${VERSION}`,
          // We keep 1 KiB of any answer: never ask for a compressed one that could inflate to gigabytes.
          "accept-encoding": "identity",
          ...standardHeaders(d.event_id, timestampSec, d.envelope, rt.secrets),
        },
        redirect: "manual", // a redirect is an answer, not an instruction: never follow it
        decompress: false, // a hook that compresses anyway gets its bytes kept as they are, never inflated
        signal: AbortSignal.timeout(rt.timeoutMs),
      });
      const ok = res.status >= 200 && res.status < 300;
      // Read even a 2xx's (short) answer to its end, so the connection can be reused.
      const prefix = await responsePrefix(res, RESPONSE_KEEP_BYTES);
      const encoding = res.headers.get("content-encoding");
      const response = ok ? null : encoding && encoding !== "identity" ? `[${encoding}-encoded answer, not decoded]` : prefix;
      return {
        status: res.status,
        retryAfterMs: parseRetryAfter(res.headers.get("retry-after"), this.#opts.clock.now()),
        error: ok ? null : `HTTP ${res.status}`,
        response,
      };
    } catch (err) {
      const e = err as Error;
      return { status: null, retryAfterMs: null, error: e.name === "TimeoutError" ? `timed out after ${rt.hook.timeout}` : e.message, response: null };
    }
  }
}
