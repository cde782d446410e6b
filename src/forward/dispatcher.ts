/**
 * Delivers events to hooks. Each hook has its own concurrency slots and its own
 * queue in SQLite, so a dead or slow hook never delays a healthy one. Every attempt
 * POSTs the stored envelope, signed per Standard Webhooks with a fresh timestamp;
 * the webhook-id is the event id, the same on every retry and replay.
 */
import { rateLimited } from "../util/log-budget";
import { metrics } from "../metrics/catalogue";
import type { Hook } from "../config/schema";
import { parseDuration } from "../config/duration";
import type { ClaimedDelivery, DeliveryOutcome, GivenUp, RecordedOutcome } from "../domain/delivery";
import type { DispatchEngine } from "../engine/dispatch";
import type { Clock } from "../util/clock";
import { leaseToken } from "../util/ids";
import { Wakeup } from "../util/wakeup";
import { withDeadline } from "../util/deadline";
import type { Logger } from "../util/log";
import { VERSION } from "../version";
import type { TrafficCounter, TrafficMeter } from "../worker/traffic";
import { decideDelivery, parseRetryAfter, type AttemptResult } from "./retry-policy";
import { responsePrefix } from "./response-prefix";
import { standardSigner, type Signer } from "./standard-webhooks";

const RESPONSE_KEEP_BYTES = 1024;
/**
 * A hook's deliveries are claimed up to this many times its `concurrency` (in flight
 * plus waiting in memory), so the next attempt starts the moment one finishes, not at
 * the next transaction: a hook gets `concurrency` / its latency attempts a second
 * while the writer thread is busy with other work.
 */
const PREFETCH = 4;
/**
 * Turns come at most this often while fewer than TURN_BATCH attempts wait to be
 * recorded. A turn is a transaction whatever its size (~0.15 ms of the writer thread on
 * SQLite); taken after every finished attempt, as when a hook keeps up with processing,
 * turns of 7 deliveries each took a third of the thread that also processes.
 */
const TURN_SPACING_MS = 5;
const TURN_BATCH = 64;

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
  onGivenUp?: (given: GivenUp, now: number) => void;
}

const METER_COUNTER: Record<DeliveryOutcome["state"], TrafficCounter> = { done: "delivered", pending: "failed", dead: "dead", disabled: "dead" };

interface Claimed {
  delivery: ClaimedDelivery;
  token: string;
  leaseUntil: number;
}

interface HookRuntime {
  hook: Hook;
  sign: Signer;
  timeoutMs: number;
  scheduleMs: number[];
  active: Set<Promise<void>>;
  /** Claimed (leased), not started yet: each starts as a slot frees. */
  waiting: Claimed[];
}

export class Dispatcher {
  readonly #engine: DispatchEngine;
  readonly #hooks: HookRuntime[];
  readonly #opts: DispatcherOptions;
  /** Results waiting to be written; recorded together, in one transaction, at the next tick. */
  #finished: RecordedOutcome[] = [];
  /** Once stopping, waiting deliveries are not started; `flush()` hands them back. */
  #stopping = false;
  readonly #wakeup = new Wakeup();
  /** When the last turn started (monotonic ms, not the domain clock: this paces the thread's work). */
  #lastTurnAt = -Infinity;

  constructor(engine: DispatchEngine, options: DispatcherOptions) {
    this.#engine = engine;
    this.#opts = options;
    this.#hooks = options.hooks.map((hook) => ({
      hook,
      sign: standardSigner(hook.secrets ?? [hook.secret!]),
      timeoutMs: parseDuration(hook.timeout)!,
      scheduleMs: hook.retry_schedule.map((d) => parseDuration(d)!),
      active: new Set(),
      waiting: [],
    }));
    for (const { name } of options.hooks) for (const outcome of Object.keys(METER_COUNTER)) metrics.declare("wa_deliveries_total", { hook: name, outcome });
  }

  /** Deliveries an earlier, crashed run of this instance had in flight are due again now. */
  recoverLeases(): Promise<number> {
    return this.#engine.recoverLeases(this.#opts.instance, this.#opts.clock.now());
  }

  /**
   * Records finished attempts, then claims due deliveries up to each hook's prefetch
   * and starts as many as it has free slots; returns how many started or were recorded.
   */
  async tick(): Promise<number> {
    if (this.#hooks.length === 0 || this.#stopping) return 0;
    // Nothing to record, and every hook's prefetch full: no transaction at all.
    if (this.#finished.length === 0 && this.#hooks.every((rt) => this.#wanted(rt) === 0)) return 0;
    this.#lastTurnAt = performance.now();
    const now = this.#opts.clock.now();
    const asking = this.#hooks.filter((rt) => this.#wanted(rt) > 0);
    // The lease outlives the wait for a slot and the request's timeout, so an expired lease means a crashed attempt.
    const claims = asking.map((rt) => ({ hook: rt.hook.name, token: leaseToken(this.#opts.instance), leaseUntil: now + (PREFETCH + 1) * rt.timeoutMs + 30_000, limit: this.#wanted(rt) }));
    // Recording results and claiming new work share one transaction (engine/dispatch.ts).
    const finished = this.#finished;
    this.#finished = [];
    let turn: Awaited<ReturnType<DispatchEngine["turn"]>>;
    try {
      turn = await this.#engine.turn(finished, claims, now, this.#givenUp);
    } catch (err) {
      this.#finished = [...finished, ...this.#finished]; // recorded at the next turn
      throw err;
    }
    let started = 0;
    asking.forEach((rt, i) => {
      for (const delivery of turn.claimed[i]!) rt.waiting.push({ delivery, token: claims[i]!.token, leaseUntil: claims[i]!.leaseUntil });
      started += this.#fill(rt);
    });
    return started + finished.length;
  }

  /**
   * Resolves when a turn is worth taking: some hook has less than one round of
   * claimed deliveries left, new deliveries were stored (`wake()`), or after `ms`;
   * never sooner than TURN_SPACING_MS after the last turn unless a batch of attempts
   * waits to be recorded.
   */
  async nextTurn(ms: number): Promise<void> {
    await this.#wakeup.wait(ms);
    const early = TURN_SPACING_MS - (performance.now() - this.#lastTurnAt);
    if (early > 0 && this.#finished.length < TURN_BATCH && !this.#stopping) await Bun.sleep(early);
  }

  /** New deliveries are due (another instance stored them): the next turn is worth taking now. */
  wake() {
    this.#wakeup.wake();
  }

  #wanted(rt: HookRuntime): number {
    return Math.max(0, PREFETCH * rt.hook.concurrency - rt.active.size - rt.waiting.length);
  }

  /** Starts waiting deliveries while the hook has free slots; returns how many started. */
  #fill(rt: HookRuntime): number {
    let started = 0;
    while (!this.#stopping && rt.active.size < rt.hook.concurrency && rt.waiting.length > 0) {
      const { delivery, token, leaseUntil } = rt.waiting.shift()!;
      // A lease that would run out before the attempt could end (the process was paused, a
      // SIGSTOP or a frozen VM): another instance, or this one's next claim, may have it
      // by now. Not started: whoever holds the lease sends it, once.
      if (this.#opts.clock.now() + rt.timeoutMs >= leaseUntil) {
        rateLimited(this.#opts.log).warn(`lease ${rt.hook.name}`, "claimed delivery not started: its lease ran out while it waited (was the process paused?)", { hook: rt.hook.name, event_id: delivery.event_id });
        continue;
      }
      const p = this.#attempt(rt, delivery, token).finally(() => {
        rt.active.delete(p);
        this.#fill(rt);
        if (rt.waiting.length < rt.hook.concurrency) this.#wakeup.wake();
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
    while ((await this.tick()) > 0 || this.#hooks.some((rt) => rt.active.size > 0)) await this.idle();
  }

  /** Starts no more attempts; those in flight finish. */
  stop() {
    this.#stopping = true;
    this.#wakeup.wake();
  }

  /**
   * Writes every finished attempt in one transaction (one fsync for many deliveries)
   * and, once stopping, hands back the deliveries claimed but never started.
   */
  async flush(): Promise<number> {
    const waiting = this.#stopping ? this.#hooks.flatMap((rt) => rt.waiting.splice(0)) : [];
    if (this.#finished.length === 0 && waiting.length === 0) return 0;
    const finished = this.#finished;
    this.#finished = [];
    await this.#engine.flush(finished, waiting.map(({ delivery, token }) => ({ id: delivery.id, token })), this.#givenUp);
    return finished.length;
  }

  /** Told, in the transaction that records it, when a delivery was given up (alerts). */
  #givenUp = (o: RecordedOutcome) => this.#opts.onGivenUp?.({ hook: o.hook, eventId: o.eventId, reason: o.last.error, gone: o.outcome.state === "disabled" }, o.at);

  async #attempt(rt: HookRuntime, d: ClaimedDelivery, token: string) {
    const started = this.#opts.clock.now();
    const result = await this.#post(rt, d);
    const now = this.#opts.clock.now();
    const outcome = decideDelivery(d.attempts, result, rt.scheduleMs, now, this.#opts.random ?? Math.random);
    this.#finished.push({ id: d.id, hook: rt.hook.name, eventId: d.event_id, token, outcome, last: { status: result.status, error: result.error, response: result.response }, at: now });
    this.#opts.meter?.add(METER_COUNTER[outcome.state]);
    metrics.inc("wa_deliveries_total", { hook: rt.hook.name, outcome: outcome.state });
    if (this.#opts.log.enabled("debug")) this.#opts.log.debug("delivery attempt", { hook: rt.hook.name, event_id: d.event_id, attempt: d.attempts, status: result.status, outcome: outcome.state, ms: now - started });
    if (outcome.state !== "done") {
      const level = outcome.state === "pending" ? "warn" : "error";
      // A hook down or answering 410 fails every event alike: 20 lines a minute per hook,
      // outcome and answer, the rest counted ("log lines left out"); /v1/deliveries has each.
      const key = `delivery ${rt.hook.name} ${outcome.state} ${result.status ?? "no answer"}`;
      rateLimited(this.#opts.log)[level](key, "delivery attempt failed", {
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
      // The timeout covers the answer's head and the part of its body we keep.
      return await withDeadline(rt.timeoutMs, async (signal) => {
        const res = await fetch(rt.hook.url, {
          method: "POST",
          body: d.envelope,
          headers: {
            "content-type": "application/json",
            "user-agent": `wa-webhookd/${VERSION}`,
            // We keep 1 KiB of any answer: never ask for a compressed one that could inflate to gigabytes.
            "accept-encoding": "identity",
            ...rt.sign(d.event_id, timestampSec, d.envelope),
          },
          redirect: "manual", // a redirect is an answer, not an instruction: never follow it
          decompress: false, // a hook that compresses anyway gets its bytes kept as they are, never inflated
          signal,
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
      });
    } catch (err) {
      const e = err as Error;
      return { status: null, retryAfterMs: null, error: e.name === "TimeoutError" ? `timed out after ${rt.hook.timeout}` : e.message, response: null };
    }
  }
}
