/**
 * Turns inbox jobs into events, a batch at a time, as sets: claim a batch (one
 * statement), normalize its bodies (pure), then one transaction in the engine reads the
 * state the batch needs in bulk (held leases, dedup keys, message statuses, notice
 * values), lets worker/plan.ts decide (pure), and writes each table once per batch.
 * A batch that fails is split: its jobs are committed one by one, so a poison payload
 * fails alone and is retried later, `dead` after `worker.max_attempts`.
 *
 * A pass has a time budget (it shares the thread with inbox commits). A job with more
 * events than fit is processed in slices: the pass stores what it can, records how far
 * it got (`job_progress`), keeps the job leased and its place in memory; the next pass
 * goes on from there. (Releasing and re-claiming would rewrite the inbox row, body and
 * all, on every pass.) A crash before a commit leaves the jobs leased; the lease
 * expires and another pass redoes them from where the last commit left them.
 */
import type { Alerter } from "../alerts/alerter";
import type { HookRoute } from "../config/schema";
import type { InboxJob } from "../domain/inbox";
import { type BatchInput, type BatchWrites, type NoticeKey, noticeKey, type ProcessingEngine } from "../engine/processing";
import { hookFilter } from "../events/hook-filter";
import type { Tracker } from "../sweeper/tracker";
import type { Clock } from "../util/clock";
import { isStorageFailure } from "../store/errors";
import { leaseToken } from "../util/ids";
import type { Logger } from "../util/log";
import { parseJsonExact } from "../util/json";
import { storableKey } from "../util/storable-key";
import { normalizeEvents, type NormalizedEvent } from "../whatsapp/normalize";
import { PhoneNumberBook } from "./phone-numbers";
import { planBatch, type JobSlice, type Planned, type Route } from "./plan";

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
  tracker?: Pick<Tracker, "onStatuses"> | null;
  /** Events that need an operator (template paused, account restricted…) become alerts (alerts/rules.ts). */
  alerter?: Pick<Alerter, "fromEvent"> | null;
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

/** How often (in events) pulling looks at the clock. */
const CLOCK_EVERY = 16;
/** What a stored event is first assumed to cost, before a commit has been measured (µs). */
const INITIAL_COMMIT_US = 40;

/** Where a job's processing stands: its events, pulled one at a time. */
interface Cursor {
  events: Iterator<NormalizedEvent>;
  /** Events pulled so far. */
  position: number;
  /** Events stored by earlier runs before this cursor was made: pulled again, not stored again. */
  skip: number;
  /** A progress row exists for the job (sliced, or resumed after a restart). */
  hasProgress: boolean;
}

/** The job a pass ran out of time on: still leased to us, its place kept for the next pass. */
interface Unfinished {
  job: InboxJob;
  token: string;
  cursor: Cursor;
  leaseUntil: number;
}

export class Processor {
  readonly #engine: ProcessingEngine;
  readonly #opts: ProcessorOptions;
  readonly #routes: Route[];
  readonly #eventId: (now: number) => string;
  #unfinished: Unfinished | null = null;
  readonly #numbers = new PhoneNumberBook();
  /** The book learns from the stored events once, on the first pass. */
  #numbersSeeded = false;
  /**
   * Jobs a failed pass could not give back (the database was gone for both the commit
   * and the release): given back at the start of the next pass, so they wait for the
   * database, not for worker.lease, and their attempt is not counted.
   */
  #stranded: { ids: number[]; token: string }[] = [];
  /** Measured cost of storing one event (µs, moving average): sizes what a pass pulls to fit its budget. */
  #commitUs = INITIAL_COMMIT_US;
  /**
   * At most this many jobs are claimed (besides the pass's `limit`). A claim reads every
   * claimed job's body: 200 bodies of 100 KB took 35-120 ms to read, more than a whole
   * pass budget, so each pass processed the one job it always runs and gave 199 back, their
   * bodies read for nothing (~5 jobs/s). A pass that gives jobs back sets it to twice what
   * it reached; one that finishes all it asked for doubles it (none: no cap).
   */
  #claimCap = Infinity;

  constructor(engine: ProcessingEngine, eventId: (now: number) => string, options: ProcessorOptions) {
    this.#engine = engine;
    this.#eventId = eventId;
    this.#opts = options;
    this.#routes = options.hooks.map((h) => ({ name: h.name, wants: hookFilter(h) }));
  }

  /** How long the oldest job waiting has waited (0 when none waits). */
  backlogAgeMs(now: number): Promise<number> {
    return this.#engine.backlogAgeMs(now);
  }

  /** Takes back jobs an earlier, crashed run of this instance had leased. */
  recoverLeases(): Promise<number> {
    return this.#engine.recoverLeases(this.#opts.instance);
  }

  /**
   * Goes on with the job the last pass left unfinished, then claims a batch, all
   * within `budgetMs` (at least one slice of one job always runs). Returns what it
   * did (jobs = 0: queue empty). A claim commits on its own, before processing: an
   * attempt that crashes the process is still counted, so a poison payload ends
   * dead instead of looping.
   */
  async runOnce(limit = this.#opts.batchSize, budgetMs = this.#opts.passBudgetMs): Promise<ProcessStats> {
    const started = this.#opts.clock.now();
    const deadline = started + budgetMs;
    const stats: ProcessStats = { jobs: 0, released: 0, unfinished: 0, events: 0, duplicates: 0, dead: 0, types: {}, transitions: {} };
    if (!this.#numbersSeeded) {
      this.#numbers.learnAll((await this.#engine.recentNumbers()).reverse());
      this.#numbersSeeded = true;
    }
    while (this.#stranded.length > 0) {
      const { ids, token } = this.#stranded[0]!;
      await this.#engine.release(ids, token); // still failing: this pass fails too, and the next tries again
      this.#stranded.shift();
      stats.released += ids.length;
    }
    const carried = this.#unfinished;
    if (carried) {
      stats.jobs++;
      await this.#keepLeased(carried); // if this fails, the next pass tries the job again (still ours), not worker.lease later
      this.#unfinished = null;
      await this.#commit([{ slice: this.#pull(carried.job, carried.cursor, deadline, 0), cursor: carried.cursor, leaseUntil: carried.leaseUntil }], [], carried.token, stats);
      if (this.#unfinished || this.#opts.clock.now() >= deadline) return stats;
    }
    const now = this.#opts.clock.now();
    const token = leaseToken(this.#opts.instance);
    const leaseUntil = now + this.#opts.leaseMs;
    const asked = Math.min(limit, this.#claimCap);
    const jobs = await this.#engine.claim(token, leaseUntil, now, asked);
    stats.jobs += jobs.length;
    if (jobs.length === 0) return stats;
    const work: Work[] = [];
    const dead: BatchWrites["dead"] = [];
    let pulled = 0;
    let reached = 0;
    for (const job of jobs) {
      if (reached > 0 && this.#outOfTime(deadline, pulled)) break;
      reached++;
      const cursor = this.#cursorFor(job);
      if (typeof cursor === "string") dead.push({ id: job.id, error: cursor });
      else {
        const slice = this.#pull(job, cursor, deadline, pulled);
        pulled += slice.events.length;
        work.push({ slice, cursor, leaseUntil });
        if (!slice.finished) break; // out of time inside this job: the rest waits
      }
    }
    const unreached = jobs.slice(reached).map((j) => j.id);
    if (unreached.length > 0) this.#claimCap = Math.max(1, 2 * reached);
    else if (jobs.length === asked && work.every((w) => w.slice.finished)) this.#claimCap = 2 * asked >= limit ? Infinity : 2 * asked;
    if (unreached.length > 0) {
      try {
        await this.#engine.release(unreached, token);
      } catch (err) {
        // A lock held elsewhere, a full disk: the pass fails, and every job it claimed goes
        // back at the start of the next (as a failed commit's do), not after worker.lease.
        if (isStorageFailure(err)) this.#stranded.push({ ids: jobs.map((j) => j.id), token });
        throw err;
      }
      stats.released += unreached.length;
    }
    if (work.length + dead.length > 0) await this.#commit(work, dead, token, stats);
    return stats;
  }

  /** Out of time for more: what was spent pulling plus what storing it is expected to cost. */
  #outOfTime(deadline: number, pulled: number): boolean {
    return this.#opts.clock.now() + (pulled * this.#commitUs) / 1000 >= deadline;
  }

  async #keepLeased(u: Unfinished) {
    const now = this.#opts.clock.now();
    if (u.leaseUntil - now >= this.#opts.leaseMs / 2) return;
    u.leaseUntil = now + this.#opts.leaseMs;
    await this.#engine.extend(u.job.id, u.token, u.leaseUntil);
  }

  /** Pulls the job's next events until it has no more or the pass would run out of time. */
  #pull(job: InboxJob, cursor: Cursor, deadline: number, alreadyPulled: number): JobSlice {
    const events: JobSlice["events"] = [];
    for (let n = 0; ; n++) {
      if (n > 0 && n % CLOCK_EVERY === 0 && this.#outOfTime(deadline, alreadyPulled + events.length)) {
        return { job, events, position: cursor.position, finished: false, hasProgress: cursor.hasProgress };
      }
      const next = cursor.events.next();
      if (next.done) return { job, events, position: cursor.position, finished: true, hasProgress: cursor.hasProgress };
      cursor.position++;
      this.#numbers.see(next.value);
      if (cursor.position > cursor.skip) events.push({ id: this.#eventId(this.#opts.clock.now()), key: storableKey(next.value.dedupKey), event: next.value });
    }
  }

  /**
   * Commits the batch; if that fails, each job alone, so that only the one that
   * cannot be stored fails (retried later, dead after max attempts).
   */
  async #commit(work: Work[], dead: BatchWrites["dead"], token: string, stats: ProcessStats) {
    try {
      await this.#commitTogether(work, dead, token, stats);
    } catch (err) {
      // A lock held elsewhere, a full disk: no job's fault, and each alone would meet it
      // again (200 jobs × the busy timeout). Given back untouched, the pass fails.
      if (isStorageFailure(err)) {
        await this.#giveBack([...work.map((w) => w.slice.job.id), ...dead.map((d) => d.id)], token, stats);
        throw err;
      }
      if (work.length === 1 && dead.length === 0) return this.#failed(work[0]!, token, err, stats);
      for (const d of dead) await this.#fail(d.id, null, token, "dead", d.error, stats);
      for (const one of work) {
        try {
          await this.#commitTogether([one], [], token, stats);
        } catch (e) {
          await this.#failed(one, token, e, stats);
        }
      }
    }
  }

  /** If this fails too (the same trouble as the commit's, reported by the caller), the next pass gives them back first. */
  async #giveBack(ids: number[], token: string, stats: ProcessStats) {
    this.#unfinished = null;
    try {
      await this.#engine.release(ids, token);
      stats.released += ids.length;
    } catch {
      this.#stranded.push({ ids, token });
    }
  }

  async #commitTogether(work: Work[], dead: BatchWrites["dead"], token: string, stats: ProcessStats) {
    const now = this.#opts.clock.now();
    const slices = work.map((w) => w.slice);
    const started = performance.now();
    const input = batchInput(slices, dead, token, now);
    const planned = await this.#engine.commit(input, (snapshot) => planBatch(slices, dead, snapshot, this.#routes), (p) => this.#after(p, now));
    for (const d of planned.writes.dead) {
      stats.dead++;
      this.#opts.log.warn("inbox job dead", { inbox_id: d.id, error: d.error });
    }
    const events = slices.reduce((n, s) => n + s.events.length, 0);
    if (events > 0) this.#commitUs = 0.8 * this.#commitUs + (0.2 * (performance.now() - started) * 1000) / events;
    for (const w of work) {
      if (w.slice.finished) continue;
      w.cursor.hasProgress = true;
      this.#unfinished = { job: w.slice.job, token, cursor: w.cursor, leaseUntil: w.leaseUntil };
      stats.unfinished++;
    }
    count(planned, stats);
  }

  /** In the batch's transaction, once its events are written: fallback tracking, alerts, the debug line. */
  #after(planned: Planned, now: number) {
    const { tracker, alerter, log } = this.#opts;
    tracker?.onStatuses(planned.stored.flatMap(({ row, statuses }) => statuses.map((s) => ({ ...s, eventId: row.id }))), now);
    for (const { row, event } of planned.stored) {
      alerter?.fromEvent({ type: event.type, data: event.data, dedupKey: row.dedupKey, phoneNumberId: event.phoneNumberId, wabaId: event.wabaId }, now);
      // Ids and type only: data holds phone numbers and message text. The person shows as the logger's keyed hash.
      log.debug("event", { id: row.id, type: row.type, inbox_id: row.inboxId, wamid: row.wamid, wa_id: row.waId });
    }
  }

  /** A job whose events could not be stored: retried later, dead after max attempts. */
  #failed(w: Work, token: string, err: unknown, stats: ProcessStats): Promise<void> {
    const { job } = w.slice;
    return this.#fail(job.id, job.attempts, token, job.attempts >= this.#opts.maxAttempts ? "dead" : "pending", (err as Error).message, stats);
  }

  async #fail(id: number, attempt: number | null, token: string, state: "pending" | "dead", error: string, stats: ProcessStats) {
    if (!(await this.#engine.fail(id, token, state, error, this.#opts.clock.now()))) return; // the lease was lost meanwhile
    if (state === "dead") stats.dead++;
    this.#opts.log.error("processing failed", { inbox_id: id, attempt, state, error });
  }

  /** The job's events from the start (those stored by earlier runs are skipped); a string when it cannot be processed. */
  #cursorFor(job: InboxJob): Cursor | string {
    if (job.attempts > this.#opts.maxAttempts) return `gave up after ${job.attempts - 1} attempts: ${job.last_error ?? "unknown error"}`;
    // Retrying cannot fix a body that is not UTF-8 JSON: dead at once, kept for inspection.
    let text: string;
    try {
      text = utf8.decode(job.body);
    } catch {
      return "body is not valid UTF-8";
    }
    try {
      // Never throws past here: an item it cannot read becomes a webhook.unknown beside its siblings.
      return { events: normalizeEvents(parseJsonExact(text)), position: 0, skip: job.progress, hasProgress: job.progress > 0 };
    } catch (err) {
      return `body is not valid JSON: ${withoutQuotedText((err as Error).message)}`;
    }
  }
}

interface Work {
  slice: JobSlice;
  cursor: Cursor;
  leaseUntil: number;
}

/** What the engine must read for these slices: their keys, the messages their statuses move, the values their notices are judged against, the persons their identity changes link. */
function batchInput(slices: readonly JobSlice[], dead: BatchWrites["dead"], token: string, now: number): BatchInput {
  const wamids = new Set<string>();
  const notices = new Map<string, NoticeKey>();
  const identities = new Set<string>();
  const keys: { job: number; id: string; key: string }[] = [];
  for (const s of slices) {
    for (const { id, key, event } of s.events) {
      keys.push({ job: s.job.id, id, key });
      for (const e of event.effects) {
        if (e.kind === "status") wamids.add(e.wamid);
        else if (e.kind === "notice") notices.set(noticeKey(e), { subject: e.subject, id: e.id, attribute: e.attribute });
        else if (e.kind === "identity") for (const n of e.link.ids) identities.add(n.id);
      }
    }
  }
  return { token, now, jobs: [...slices.map((s) => s.job.id), ...dead.map((d) => d.id)], keys, wamids: [...wamids], notices: [...notices.values()], identities: [...identities] };
}

function count(planned: Planned, stats: ProcessStats) {
  stats.events += planned.stored.length;
  stats.duplicates += planned.duplicates;
  for (const { row } of planned.stored) stats.types[row.type] = (stats.types[row.type] ?? 0) + 1;
  for (const [move, n] of Object.entries(planned.transitions)) stats.transitions[move] = (stats.transitions[move] ?? 0) + n;
}

/**
 * A JSON parser's reason without the text it quotes ('Unexpected identifier "…"'): that is
 * the body's own text (a name, a number, a password), and the reason is logged and shown.
 */
export const withoutQuotedText = (reason: string) => reason.replace(/"[^"]*"?/g, '"…"');
