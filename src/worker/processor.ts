/**
 * Turns inbox jobs into events. A claimed batch is processed in one IMMEDIATE
 * transaction (one fsync), each job inside its own savepoint: check the lease is
 * still ours, dedupe, store each new event with its state effects and one delivery
 * per interested hook, mark the job done. A job that throws rolls back alone and is
 * retried later. A crash before the commit leaves the jobs leased; the lease
 * expires and another pass redoes them from where the last commit left them.
 *
 * A pass has a time budget (it shares the thread with inbox commits). A job with
 * more events than fit is processed in slices: the pass stores what it can, records
 * how far it got (`job_progress`), keeps the job leased and its place in memory; the
 * next pass goes on from there. (Releasing and re-claiming would rewrite the inbox
 * row, body and all, on every pass.)
 */
import { eventIds } from "../store/event-ids";
import { statsStore } from "../store/stats-store";
import type { StateEffect } from "../domain/effects";
import type { Database } from "bun:sqlite";
import type { Tracker } from "../sweeper/tracker";
import type { Alerter } from "../alerts/alerter";
import type { HookRoute } from "../config/schema";
import type { EventEnvelope } from "../events/envelope";
import { hookFilter, type HookFilter } from "../forward/hook-filter";
import { eventStore } from "../store/event-store";
import { queueStore, type InboxJob } from "../store/queue-store";
import type { Clock } from "../util/clock";
import { leaseToken } from "../util/ids";
import { storableKey } from "../util/storable-key";
import type { Logger } from "../util/log";
import { eventSubject } from "../events/subject";
import { normalizeEvents, type NormalizedEvent } from "../whatsapp/normalize";

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
  /** With fallback enabled: outbound statuses are tracked for SMS fallback (sweeper/tracker.ts). */
  tracker?: Tracker | null;
  /** Events that need an operator (template paused, account restricted…) become alerts (alerts/rules.ts). */
  alerter?: Alerter | null;
}

export interface ProcessStats {
  jobs: number; // claimed
  released: number; // claimed but given back untouched: the pass ran out of time
  unfinished: number; // 1 when the pass ran out of time inside a job (kept leased for the next pass)
  events: number;
  duplicates: number;
  dead: number;
  /** Events stored, by type. */
  types: Record<string, number>;
  /** Statuses applied, by "status>state after". */
  transitions: Record<string, number>;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** How often (in events) a job's loop looks at the clock. */
const CLOCK_EVERY = 16;

/** Where a job's processing stands: its events, pulled one at a time. */
interface Cursor {
  events: Iterator<NormalizedEvent>;
  /** Events pulled so far. */
  position: number;
  /** Events stored by earlier runs before this cursor was made: pulled again, not stored again. */
  skip: number;
  /** A pass ran out of time on this job and saved its progress. */
  sliced: boolean;
}

/** The job a pass ran out of time on: still leased to us, its place kept for the next pass. */
interface Unfinished {
  job: InboxJob;
  token: string;
  cursor: Cursor;
  leaseUntil: number;
}

type JobOutcome = "done" | "unfinished" | "lost";

export class Processor {
  readonly #queue;
  readonly #events;
  readonly #stats;
  readonly #eventId;
  readonly #opts: ProcessorOptions;
  /** One job's writes; nested in the batch transaction, so it runs as a savepoint. */
  readonly #storeJob;
  readonly #processBatch;
  readonly #continue;
  readonly #hooks: { name: string; wants: HookFilter }[];
  #unfinished: Unfinished | null = null;

  constructor(db: Database, options: ProcessorOptions) {
    this.#hooks = options.hooks.map((h) => ({ name: h.name, wants: hookFilter(h) }));
    this.#queue = queueStore(db);
    this.#events = eventStore(db);
    this.#stats = statsStore(db).tally();
    this.#eventId = eventIds(db);
    this.#opts = options;
    this.#storeJob = db.transaction((job: InboxJob, token: string, cursor: Cursor, deadline: number, stats: ProcessStats): JobOutcome => {
      if (!this.#queue.holds(job.id, token)) return "lost"; // lease lost: someone else owns it now
      const now = this.#opts.clock.now();
      for (let pulled = 0; ; pulled++) {
        if (pulled > 0 && pulled % CLOCK_EVERY === 0 && this.#opts.clock.now() >= deadline) {
          // Out of time: record how far it got (a restart resumes there) and keep the lease.
          this.#queue.saveProgress(job.id, cursor.position);
          cursor.sliced = true;
          return "unfinished";
        }
        const next = cursor.events.next();
        if (next.done) break;
        cursor.position++;
        if (cursor.position > cursor.skip) this.#store(next.value, job, now, stats);
      }
      // Only a job processed in slices has a progress row (most jobs fit one pass: no extra write).
      if (cursor.sliced || cursor.skip > 0) this.#queue.clearProgress(job.id);
      this.#queue.finish(job.id, token, now);
      return "done";
    });
    this.#processBatch = db.transaction((jobs: InboxJob[], token: string, leaseUntil: number, deadline: number, stats: ProcessStats) => {
      jobs.forEach((job, i) => {
        if (i > 0 && this.#opts.clock.now() >= deadline) {
          this.#queue.release(job.id, token);
          stats.released++;
        } else this.#process(job, token, leaseUntil, deadline, stats);
      });
      this.#stats.flush();
    });
    this.#continue = db.transaction((u: Unfinished, deadline: number, stats: ProcessStats) => {
      const now = this.#opts.clock.now();
      if (u.leaseUntil - now < this.#opts.leaseMs / 2) {
        u.leaseUntil = now + this.#opts.leaseMs;
        this.#queue.extend(u.job.id, u.token, u.leaseUntil);
      }
      this.#run(u.job, u.token, u.cursor, u.leaseUntil, deadline, stats);
      this.#stats.flush();
    });
  }

  /** How long the oldest job waiting has waited (0 when none waits). */
  backlogAgeMs(now: number): number {
    return this.#queue.backlogAgeMs(now);
  }

  /** Takes back jobs an earlier, crashed run of this instance had leased. */
  recoverLeases(): number {
    return this.#queue.recoverLeases(this.#opts.instance);
  }

  /**
   * Goes on with the job the last pass left unfinished, then claims a batch, all
   * within `budgetMs` (at least one slice of one job always runs). Returns what it
   * did (jobs = 0: queue empty). A claim commits on its own, before processing: an
   * attempt that crashes the process is still counted, so a poison payload ends
   * dead instead of looping.
   */
  runOnce(limit = this.#opts.batchSize, budgetMs = this.#opts.passBudgetMs): ProcessStats {
    const now = this.#opts.clock.now();
    const deadline = now + budgetMs;
    const stats: ProcessStats = { jobs: 0, released: 0, unfinished: 0, events: 0, duplicates: 0, dead: 0, types: {}, transitions: {} };
    try {
      const unfinished = this.#unfinished;
      this.#unfinished = null;
      if (unfinished) {
        stats.jobs++;
        this.#continue.immediate(unfinished, deadline, stats);
        if (this.#unfinished || this.#opts.clock.now() >= deadline) return stats;
      }
      const token = leaseToken(this.#opts.instance);
      const leaseUntil = now + this.#opts.leaseMs;
      const jobs = this.#queue.claim(token, leaseUntil, now, limit);
      stats.jobs += jobs.length;
      if (jobs.length > 0) this.#processBatch.immediate(jobs, token, leaseUntil, deadline, stats);
    } catch (err) {
      // Rolled back: a kept place no longer matches the database. The job's lease
      // expires and it is taken again from its stored progress.
      this.#unfinished = null;
      this.#stats.undo(0);
      throw err;
    }
    return stats;
  }

  #process(job: InboxJob, token: string, leaseUntil: number, deadline: number, stats: ProcessStats) {
    if (job.attempts > this.#opts.maxAttempts) return this.#dead(job, token, `gave up after ${job.attempts - 1} attempts: ${job.last_error ?? "unknown error"}`, stats);
    const cursor = this.#cursorFor(job);
    if (typeof cursor === "string") return this.#dead(job, token, cursor, stats);
    this.#run(job, token, cursor, leaseUntil, deadline, stats);
  }

  #run(job: InboxJob, token: string, cursor: Cursor, leaseUntil: number, deadline: number, stats: ProcessStats) {
    const counted = this.#stats.mark();
    try {
      if (this.#storeJob(job, token, cursor, deadline, stats) === "unfinished") {
        this.#unfinished = { job, token, cursor, leaseUntil };
        stats.unfinished++;
      }
    } catch (err) {
      this.#stats.undo(counted); // the job's savepoint rolled back what it stored
      const message = (err as Error).message;
      const state = job.attempts >= this.#opts.maxAttempts ? "dead" : "pending";
      this.#queue.fail(job.id, token, state, message, this.#opts.clock.now());
      this.#opts.log.error("processing failed", { inbox_id: job.id, attempt: job.attempts, state, error: message });
      if (state === "dead") stats.dead++;
    }
  }

  /** The job's events from the start (those stored by earlier runs are skipped); a string when the body is unreadable. */
  #cursorFor(job: InboxJob): Cursor | string {
    // Retrying cannot fix a body that is not UTF-8 JSON: dead at once, kept for inspection.
    let text: string;
    try {
      text = utf8.decode(job.body);
    } catch {
      return "body is not valid UTF-8";
    }
    try {
      // Never throws past here: an item it cannot read becomes a webhook.unknown beside its siblings.
      return { events: normalizeEvents(JSON.parse(text)), position: 0, skip: this.#queue.progress(job.id), sliced: false };
    } catch (err) {
      return `body is not valid JSON: ${(err as Error).message}`;
    }
  }

  #store(event: NormalizedEvent, job: InboxJob, now: number, stats: ProcessStats) {
    const id = this.#eventId(now);
    const dedupKey = storableKey(event.dedupKey);
    if (!this.#events.claimDedupKey(dedupKey, id, now)) {
      this.#stats.add("duplicate", job.received_at, "");
      stats.duplicates++;
      return;
    }
    let notices = 0;
    let applied = 0;
    for (const effect of event.effects) {
      const result = this.#events.apply(effect, id, event.phoneNumberId, now);
      if (result?.kind === "status") {
        event.data.current_status = result.current;
        if (effect.kind === "status") {
          this.#countStatus(effect, result.firstPriced, job.received_at);
          this.#opts.tracker?.onStatus(effect, result.current, id, now);
          const move = `${effect.status}>${result.current}`;
          stats.transitions[move] = (stats.transitions[move] ?? 0) + 1;
        }
      }
      if (result?.kind === "notice") [notices, applied] = [notices + 1, applied + (result.applied ? 1 : 0)];
    }
    // A notice older than what it would replace is still an event, flagged: consumers see the history.
    if (notices > 0 && event.type !== "message.received") event.data.state_changed = applied > 0;
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
    const subject = eventSubject(event.type, event.data);
    this.#events.insertEvent({
      id,
      inboxId: job.id,
      type: event.type,
      occurredAt: event.occurredAt,
      receivedAt: job.received_at,
      wabaId: event.wabaId,
      phoneNumberId: event.phoneNumberId,
      dedupKey,
      ...subject,
      envelope: JSON.stringify(envelope),
    });
    for (const hook of this.#hooks) {
      if (hook.wants(event.type, event.phoneNumberId)) this.#events.insertDelivery(id, hook.name, now);
    }
    this.#opts.alerter?.fromEvent({ type: event.type, data: event.data, dedupKey, phoneNumberId: event.phoneNumberId, wabaId: event.wabaId }, now);
    this.#stats.add("event", job.received_at, event.type);
    stats.events++;
    stats.types[event.type] = (stats.types[event.type] ?? 0) + 1;
    // Ids and type only: data holds phone numbers and message text. The person shows as the logger's keyed hash.
    this.#opts.log.debug("event", { id, type: event.type, inbox_id: job.id, wamid: subject.wamid, wa_id: subject.waId });
  }

  /** GET /v1/stats' delivery funnel, failures by code and billable messages, counted as they are stored. */
  #countStatus(effect: Extract<StateEffect, { kind: "status" }>, firstPriced: boolean, at: number) {
    this.#stats.add("status", at, effect.status);
    if (effect.status === "failed") this.#stats.add("failed", at, String((effect.errors?.[0] as { code?: unknown } | undefined)?.code ?? ""));
    if (firstPriced && effect.pricing?.billable === true) this.#stats.add("billable", at, String(effect.pricing.category ?? ""));
  }

  #dead(job: InboxJob, token: string, error: string, stats: ProcessStats) {
    this.#queue.fail(job.id, token, "dead", error, this.#opts.clock.now());
    this.#opts.log.warn("inbox job dead", { inbox_id: job.id, error });
    stats.dead++;
  }
}
