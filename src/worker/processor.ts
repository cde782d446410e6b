/**
 * Turns inbox jobs into events. A claimed batch is processed in one IMMEDIATE
 * transaction (one fsync), each job inside its own savepoint: check the lease is
 * still ours, dedupe, store each new event with its state effects and one delivery
 * per interested hook, mark the job done. A job that throws rolls back alone and is
 * retried later. A crash before the commit leaves the jobs leased; the lease
 * expires and another pass redoes them from scratch.
 */
import type { Database } from "bun:sqlite";
import type { HookRoute } from "../config/schema";
import type { EventEnvelope } from "../events/envelope";
import { hookFilter, type HookFilter } from "../forward/hook-filter";
import { eventStore } from "../store/event-store";
import { queueStore, type InboxJob } from "../store/queue-store";
import type { Clock } from "../util/clock";
import { eventId, leaseToken } from "../util/ids";
import { storableKey } from "../util/storable-key";
import type { Logger } from "../util/log";
import { normalizePayload, type NormalizedEvent } from "../whatsapp/normalize";

export interface ProcessorOptions {
  /** Owner name put in lease tokens (hostname by default). */
  instance: string;
  hooks: readonly HookRoute[];
  maxAttempts: number;
  batchSize: number;
  leaseMs: number;
  /**
   * Longest a pass may spend processing (it shares the thread with inbox commits);
   * jobs claimed but not reached go back to the queue. At least one job always runs.
   */
  passBudgetMs: number;
  clock: Clock;
  log: Logger;
}

export interface ProcessStats {
  jobs: number; // claimed
  released: number; // claimed but given back: the pass ran out of time
  events: number;
  duplicates: number;
  dead: number;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

export class Processor {
  readonly #queue;
  readonly #events;
  readonly #opts: ProcessorOptions;
  /** One job's writes; nested in the batch transaction, so it runs as a savepoint. */
  readonly #storeJob;
  readonly #processBatch;
  readonly #hooks: { name: string; wants: HookFilter }[];

  constructor(db: Database, options: ProcessorOptions) {
    this.#hooks = options.hooks.map((h) => ({ name: h.name, wants: hookFilter(h) }));
    this.#queue = queueStore(db);
    this.#events = eventStore(db);
    this.#opts = options;
    this.#storeJob = db.transaction((job: InboxJob, token: string, events: NormalizedEvent[], now: number, stats: ProcessStats) => {
      if (!this.#queue.holds(job.id, token)) return; // lease lost: someone else owns it now
      for (const event of events) this.#store(event, job, now, stats);
      this.#queue.finish(job.id, token, now);
    });
    this.#processBatch = db.transaction((jobs: InboxJob[], token: string, stats: ProcessStats) => {
      const deadline = this.#opts.clock.now() + this.#opts.passBudgetMs;
      jobs.forEach((job, i) => {
        if (i > 0 && this.#opts.clock.now() >= deadline) {
          this.#queue.release(job.id, token);
          stats.released++;
        } else this.#process(job, token, stats);
      });
    });
  }

  /** Takes back jobs an earlier, crashed run of this instance had leased. */
  recoverLeases(): number {
    return this.#queue.recoverLeases(this.#opts.instance);
  }

  /**
   * Claims one batch and processes it. Returns what it did (jobs = 0: queue empty).
   * The claim commits on its own, before processing: an attempt that crashes the
   * process is still counted, so a poison payload ends dead instead of looping.
   */
  runOnce(limit = this.#opts.batchSize): ProcessStats {
    const now = this.#opts.clock.now();
    const token = leaseToken(this.#opts.instance);
    const jobs = this.#queue.claim(token, now + this.#opts.leaseMs, now, limit);
    const stats: ProcessStats = { jobs: jobs.length, released: 0, events: 0, duplicates: 0, dead: 0 };
    if (jobs.length > 0) this.#processBatch.immediate(jobs, token, stats);
    return stats;
  }

  #process(job: InboxJob, token: string, stats: ProcessStats) {
    const now = this.#opts.clock.now();
    if (job.attempts > this.#opts.maxAttempts) return this.#dead(job, token, `gave up after ${job.attempts - 1} attempts: ${job.last_error ?? "unknown error"}`, stats);
    // Retrying cannot fix a body that is not UTF-8 JSON: dead at once, kept for inspection.
    let text: string;
    try {
      text = utf8.decode(job.body);
    } catch {
      return this.#dead(job, token, "body is not valid UTF-8", stats);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      return this.#dead(job, token, `body is not valid JSON: ${(err as Error).message}`, stats);
    }
    // Never throws: an item it cannot read becomes a webhook.unknown beside its siblings.
    const normalized = normalizePayload(body);
    try {
      this.#storeJob(job, token, normalized, now, stats);
    } catch (err) {
      const message = (err as Error).message;
      const state = job.attempts >= this.#opts.maxAttempts ? "dead" : "pending";
      this.#queue.fail(job.id, token, state, message, now);
      this.#opts.log.error("processing failed", { inbox_id: job.id, attempt: job.attempts, state, error: message });
      if (state === "dead") stats.dead++;
    }
  }

  #store(event: NormalizedEvent, job: InboxJob, now: number, stats: ProcessStats) {
    const id = eventId(now);
    const dedupKey = storableKey(event.dedupKey);
    if (!this.#events.claimDedupKey(dedupKey, id, now)) {
      stats.duplicates++;
      return;
    }
    for (const effect of event.effects) {
      const current = this.#events.apply(effect, id, event.phoneNumberId, now);
      if (current !== null) event.data.current_status = current;
    }
    const envelope: EventEnvelope = {
      id,
      type: event.type,
      timestamp: new Date(event.occurredAt ?? job.received_at).toISOString(),
      received_at: new Date(job.received_at).toISOString(),
      waba_id: event.wabaId,
      phone_number_id: event.phoneNumberId,
      display_phone_number: event.displayPhoneNumber,
      data: event.data,
      raw: event.raw,
    };
    this.#events.insertEvent({
      id,
      inboxId: job.id,
      type: event.type,
      occurredAt: event.occurredAt,
      receivedAt: job.received_at,
      wabaId: event.wabaId,
      phoneNumberId: event.phoneNumberId,
      dedupKey,
      envelope: JSON.stringify(envelope),
    });
    for (const hook of this.#hooks) {
      if (hook.wants(event.type, event.phoneNumberId)) this.#events.insertDelivery(id, hook.name, now);
    }
    stats.events++;
    // Ids and type only: data holds phone numbers and message text.
    this.#opts.log.debug("event", { id, type: event.type, inbox_id: job.id, wamid: typeof event.data.wamid === "string" ? event.data.wamid : null });
  }

  #dead(job: InboxJob, token: string, error: string, stats: ProcessStats) {
    this.#queue.fail(job.id, token, "dead", error, this.#opts.clock.now());
    this.#opts.log.warn("inbox job dead", { inbox_id: job.id, error });
    stats.dead++;
  }
}
