/**
 * Group commit for the inbox.
 *
 * One batch is in flight at a time. Requests that arrive while it commits queue
 * up and share the next transaction and its single fsync, so throughput is not
 * capped by the disk's fsync rate. Each append() resolves only after the
 * transaction holding its row has committed: the HTTP handler answers 200
 * strictly after durability.
 *
 * When the write lock is busy the batch is retried asynchronously (the event loop
 * keeps serving) until each request's own lock_timeout runs out; then it fails
 * with a "busy" StorageError and the handler answers 503.
 *
 * A commit that gets no answer at all (PostgreSQL's host lost, packets dropped: no
 * error comes, only silence) would hold every request behind it: past `stallAfterMs`
 * its requests, those queued and those arriving fail at once ("gone" → 503, Meta
 * retries) until it settles. Rows it stores after all are stored twice at worst
 * (Meta's retry): processing's dedup keys make them one event.
 */
import { metrics } from "../metrics/catalogue";
import { rateLimited } from "../util/log-budget";
import { MAX_BATCH_BYTES, MAX_BATCH_ROWS } from "../config/defaults";
import { StorageError, toStorageError } from "../store/errors";
import type { InboxRecord, InboxStore } from "../store/types";
import type { Clock } from "../util/clock";
import type { Logger } from "../util/log";

export interface InboxOptions {
  lockTimeoutMs: number;
  clock: Clock;
  log: Logger;
  maxBatchRows?: number;
  maxBatchBytes?: number;
  /** Pause between attempts while the write lock is held elsewhere. */
  busyRetryMs?: number;
  /** A commit unanswered this long is a stall (see above); 0: wait for it however long. */
  stallAfterMs?: number;
}

const observeBatchSize = metrics.histogram("wa_inbox_commit_batch_size");

interface Pending {
  record: InboxRecord;
  enqueuedAt: number;
  resolve(id: number): void;
  reject(err: StorageError): void;
}

export class Inbox {
  readonly #store: InboxStore;
  readonly #opts: Required<InboxOptions>;
  #queue: Pending[] = [];
  #scheduled = false;
  #inFlight = false;
  #idleWaiters: (() => void)[] = [];
  /** Since when the commit in flight has gone unanswered past stallAfterMs (null: not stalled). */
  #stalledSince: number | null = null;

  constructor(store: InboxStore, options: InboxOptions) {
    this.#store = store;
    this.#opts = { maxBatchRows: MAX_BATCH_ROWS, maxBatchBytes: MAX_BATCH_BYTES, busyRetryMs: 10, stallAfterMs: 0, ...options };
  }

  /** Why storage is not ready while a commit stalls; null otherwise. */
  stalled(): string | null {
    if (this.#stalledSince === null) return null;
    return `storage has not answered a commit for ${this.#opts.clock.now() - this.#stalledSince + this.#opts.stallAfterMs} ms`;
  }

  /** Resolves with the row id once the row is committed; rejects with StorageError. */
  append(record: InboxRecord): Promise<number> {
    if (this.#stalledSince !== null) return Promise.reject(this.#stallError());
    return new Promise((resolve, reject) => {
      this.#queue.push({ record, enqueuedAt: this.#opts.clock.now(), resolve, reject });
      this.#schedule(0);
    });
  }

  /** Resolves once every appended record has been committed or failed. */
  drain(): Promise<void> {
    if (this.#queue.length === 0 && !this.#inFlight) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  get pending(): number {
    return this.#queue.length;
  }

  #schedule(delayMs: number) {
    if (this.#scheduled || this.#inFlight) return;
    this.#scheduled = true;
    // setImmediate runs after the current I/O phase, so every request parsed in
    // this turn of the event loop joins the same transaction.
    if (delayMs === 0) setImmediate(this.#flush);
    else setTimeout(this.#flush, delayMs);
  }

  #flush = async () => {
    this.#scheduled = false;
    if (this.#queue.length === 0) return this.#wakeIdle();
    this.#inFlight = true;
    const batch = this.#takeBatch();
    let retryInMs = 0;
    const stall = this.#opts.stallAfterMs > 0 ? setTimeout(() => this.#stall(batch), this.#opts.stallAfterMs) : undefined;
    try {
      const ids = await this.#store.appendBatch(batch.map((p) => p.record));
      // After a stall the batch was answered 503 already (a settled promise ignores this).
      batch.forEach((p, i) => p.resolve(ids[i]!));
      observeBatchSize(batch.length);
    } catch (err) {
      // After a stall the batch was answered 503 already: nothing to requeue or reject.
      if (this.#stalledSince === null) retryInMs = this.#refused(batch, toStorageError(err));
    } finally {
      clearTimeout(stall);
      this.#inFlight = false;
      this.#endStall();
    }
    if (this.#queue.length > 0) this.#schedule(retryInMs);
    else this.#wakeIdle();
  };

  /** A refused commit: a busy lock is tried again (returns the pause before it), anything else fails the batch. */
  #refused(batch: Pending[], error: StorageError): number {
    if (error.kind === "busy") {
      this.#requeueUnexpired(batch, error);
      return this.#opts.busyRetryMs;
    }
    // Each refused batch says so, up to a budget: a full disk refuses every one.
    rateLimited(this.#opts.log).error(`commit failed ${error.kind}`, "inbox commit failed", { kind: error.kind, code: error.code, error: error.message, rows: batch.length });
    batch.forEach((p) => p.reject(error));
    return 0;
  }

  /** The commit in flight got no answer in time: its requests, and every one queued, get a 503 now. */
  #stall(batch: Pending[]) {
    this.#stalledSince = this.#opts.clock.now();
    const error = this.#stallError();
    this.#opts.log.error("storage not answering: webhooks answered 503 until it does", { waited_ms: this.#opts.stallAfterMs, rows: batch.length + this.#queue.length });
    for (const p of [...batch, ...this.#queue.splice(0)]) p.reject(error);
    this.#wakeIdle();
  }

  #endStall() {
    if (this.#stalledSince === null) return;
    this.#opts.log.warn("storage answers again: webhooks are stored", { stalled_ms: this.#opts.clock.now() - this.#stalledSince + this.#opts.stallAfterMs });
    this.#stalledSince = null;
  }

  #stallError() {
    return new StorageError("gone", `storage did not answer a commit within ${this.#opts.stallAfterMs} ms`);
  }

  #wakeIdle() {
    for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  #takeBatch(): Pending[] {
    let bytes = 0;
    let n = 0;
    while (n < this.#queue.length && n < this.#opts.maxBatchRows) {
      bytes += this.#queue[n]!.record.body.byteLength;
      if (n > 0 && bytes > this.#opts.maxBatchBytes) break;
      n++;
    }
    return this.#queue.splice(0, n);
  }

  /** Puts back the rows that may still wait for the lock and fails the rest. */
  #requeueUnexpired(batch: Pending[], error: StorageError) {
    const deadline = this.#opts.clock.now() - this.#opts.lockTimeoutMs;
    const keep = batch.filter((p) => p.enqueuedAt > deadline);
    const expired = batch.filter((p) => p.enqueuedAt <= deadline);
    if (expired.length > 0) {
      this.#opts.log.error("inbox write lock held too long", { rows: expired.length, lock_timeout_ms: this.#opts.lockTimeoutMs });
      expired.forEach((p) => p.reject(error));
    }
    this.#queue.unshift(...keep);
  }
}
