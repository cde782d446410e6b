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
import { deliveryStore, type ClaimedDelivery, type RecordedOutcome } from "../store/delivery-store";
import { durability, type Durability } from "../store/durability";
import type { Clock } from "../util/clock";
import { leaseToken } from "../util/ids";
import type { Logger } from "../util/log";
import { VERSION } from "../version";
import type { TrafficCounter, TrafficMeter } from "../worker/traffic";
import { decideDelivery, parseRetryAfter, type AttemptResult } from "./retry-policy";
import type { DeliveryOutcome } from "../domain/delivery";
import { responsePrefix } from "./response-prefix";
import { standardHeaders } from "./standard-webhooks";

const RESPONSE_KEEP_BYTES = 1024;
/**
 * A hook's deliveries are claimed up to this many times its `concurrency` (in flight
 * plus waiting in memory), so the next attempt starts the moment one finishes, not at
 * the next transaction: a hook gets `concurrency` / its latency attempts a second
 * while the writer thread is busy with other work.
 */
const PREFETCH = 4;

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

interface Finished extends RecordedOutcome {
  hook: string;
  eventId: string;
}

interface Claimed {
  delivery: ClaimedDelivery;
  token: string;
}

interface HookRuntime {
  hook: Hook;
  secrets: string[];
  timeoutMs: number;
  scheduleMs: number[];
  active: Set<Promise<void>>;
  /** Claimed (leased), not started yet: each starts as a slot frees. */
  waiting: Claimed[];
}

export class Dispatcher {
  readonly #store;
  readonly #durability: Durability;
  readonly #stats;
  readonly #hooks: HookRuntime[];
  readonly #opts: DispatcherOptions;
  readonly #db: Database;
  /** Results waiting to be written; recorded together, in one transaction, at the next tick. */
  #finished: Finished[] = [];
  /** Once stopping, waiting deliveries are not started; `flush()` hands them back. */
  #stopping = false;
  #wake: (() => void) | null = null;

  constructor(db: Database, options: DispatcherOptions) {
    this.#store = deliveryStore(db);
    this.#durability = durability(db);
    this.#stats = statsStore(db).tally();
    this.#db = db;
    this.#opts = options;
    this.#hooks = options.hooks.map((hook) => ({
      hook,
      secrets: hook.secrets ?? [hook.secret!],
      timeoutMs: parseDuration(hook.timeout)!,
      scheduleMs: hook.retry_schedule.map((d) => parseDuration(d)!),
      active: new Set(),
      waiting: [],
    }));
  }

  /** Deliveries an earlier, crashed run of this instance had in flight are due again now. */
  recoverLeases(): number {
    return this.#store.recoverLeases(this.#opts.instance, this.#opts.clock.now());
  }

  /**
   * Records finished attempts, then claims due deliveries up to each hook's prefetch
   * and starts as many as it has free slots; returns how many started or were recorded.
   */
  tick(): number {
    if (this.#hooks.length === 0 || this.#stopping) return 0;
    // Nothing to record, and every hook's prefetch full: no transaction at all.
    if (this.#finished.length === 0 && this.#hooks.every((rt) => this.#wanted(rt) === 0)) return 0;
    const now = this.#opts.clock.now();
    // Recording results and claiming new work share one transaction, which is durable
    // before any claimed event is POSTed (store/durability.ts): at most one fsync per pass.
    const { recorded, claims } = this.#durability.beforeSending(() =>
      this.#db.transaction(() => ({
        recorded: this.#recordFinished(),
        claims: this.#hooks.map((rt) => {
          const wanted = this.#wanted(rt);
          if (wanted === 0) return { rt, token: "", claimed: [] };
          const token = leaseToken(this.#opts.instance);
          // The lease outlives the wait for a slot and the request's timeout, so an expired lease means a crashed attempt.
          const leaseUntil = now + (PREFETCH + 1) * rt.timeoutMs + 30_000;
          return { rt, token, claimed: this.#store.claim(rt.hook.name, token, leaseUntil, now, wanted) };
        }),
      })).immediate(),
    );
    let started = 0;
    for (const { rt, token, claimed } of claims) {
      for (const delivery of claimed) rt.waiting.push({ delivery, token });
      started += this.#fill(rt);
    }
    return started + recorded;
  }

  /**
   * Resolves when a turn is worth taking: some hook has less than one round of
   * claimed deliveries left, or after `ms`.
   */
  nextTurn(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => wake(), ms);
      const wake = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
      this.#wake = wake;
    });
  }

  #wanted(rt: HookRuntime): number {
    return Math.max(0, PREFETCH * rt.hook.concurrency - rt.active.size - rt.waiting.length);
  }

  /** Starts waiting deliveries while the hook has free slots; returns how many started. */
  #fill(rt: HookRuntime): number {
    let started = 0;
    while (!this.#stopping && rt.active.size < rt.hook.concurrency && rt.waiting.length > 0) {
      const { delivery, token } = rt.waiting.shift()!;
      const p = this.#attempt(rt, delivery, token).finally(() => {
        rt.active.delete(p);
        this.#fill(rt);
        if (rt.waiting.length < rt.hook.concurrency) this.#wake?.();
      });
      rt.active.add(p);
      started++;
    }
    return started;
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

  /** Starts no more attempts; those in flight finish. */
  stop() {
    this.#stopping = true;
    this.#wake?.();
  }

  /**
   * Writes every finished attempt in one transaction (one fsync for many deliveries)
   * and, once stopping, hands back the deliveries claimed but never started.
   */
  flush(): number {
    const waiting = this.#stopping ? this.#hooks.flatMap((rt) => rt.waiting.splice(0)) : [];
    if (this.#finished.length === 0 && waiting.length === 0) return 0;
    return this.#db
      .transaction(() => {
        for (const { delivery, token } of waiting) this.#store.release(delivery.id, token);
        return this.#recordFinished();
      })
      .immediate();
  }

  #recordFinished(): number {
    const batch = this.#finished;
    this.#finished = [];
    this.#stats.undo(0); // what a rolled-back earlier call counted
    const recorded = this.#store.record(batch);
    for (const f of batch) {
      if (!recorded.has(f.id)) continue; // its lease was lost: another run has it now
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
