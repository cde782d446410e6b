/**
 * Request-thread side of the writer thread, by message passing: webhooks to index,
 * readiness, admin calls, metrics. If the thread ever dies, pending calls fail
 * with a StorageError (→ 503) and a new one starts: at the next call,
 * or after a short pause, since the worker loop and the scheduled jobs live in that
 * thread and must not wait for a webhook to resume.
 */
import type { AdminAnswer, AdminOp } from "../admin/ops";
import type { Logger } from "../util/log";
import type { Gauge } from "../metrics/exposition";
import type { Snapshot } from "../metrics/registry";
import { workerUrl } from "../util/worker-url";
import { InternalError, StorageError } from "../store/errors";
import type { HealthStore, Readiness } from "../store/types";
import { LogEnd } from "../store/log-end";
import type { WriterOpen, WriterReply, WriterRequest, WriterSettings } from "./protocol";

// A probe waits up to ~1 s for a busy write lock before it reports not ready.
const PROBE_BUSY_RETRIES = 10;
const PROBE_BUSY_PAUSE_MS = 50;
/** After a crash, a new thread is started after this pause, doubling while starting fails. */
const RESTART_PAUSE_MS = 1_000;
const RESTART_PAUSE_MAX_MS = 30_000;

type Waiter = { resolve(reply: WriterReply): void; reject(err: StorageError | InternalError): void };
/** A request as callers write it; #call numbers it. */
type Call = WriterRequest extends infer R ? (R extends { seq: number } ? Omit<R, "seq"> : never) : never;

export class WriterThread implements HealthStore {
  #worker: Worker | null = null;
  #ready: Promise<void> | null = null;
  #seq = 0;
  #waiters = new Map<number, Waiter>();
  #closed = false;
  readonly #logEnd: LogEnd;

  private constructor(
    private readonly open: WriterOpen,
    private readonly log: Logger,
  ) {
    this.#logEnd = new LogEnd(open.logEnd);
  }

  /**
   * Starts the thread and waits until its connection is open; throws StorageError. It
   * indexes what the inbox log holds up to `logEnd` (the newest id in it) first.
   */
  static async start(open: Omit<WriterOpen, "type" | "logEnd"> & { logEnd: number }, log: Logger): Promise<WriterThread> {
    const writer = new WriterThread({ type: "open", ...open, logEnd: new LogEnd(open.logEnd).buffer }, log);
    await writer.#ensureStarted();
    return writer;
  }

  /**
   * Every webhook up to `id` is in the segment log durably: the writer thread reads and
   * indexes them from there. No answer: if the thread dies first, the next one starts there.
   */
  logged(id: number): void {
    this.#logEnd.publish(id);
  }

  /** How far the index goes durably: every webhook up to that id is in SQLite and on disk. */
  async indexedThrough(): Promise<number> {
    const reply = await this.#call({ type: "indexed" });
    if (reply.type !== "indexed") throw new StorageError("other", `writer thread answered ${reply.type} to indexed`);
    return reply.through;
  }

  /**
   * Ready unless a durable write fails. A lock that is merely busy (held by another
   * process, e.g. an operator command) is waited on, briefly.
   */
  async probe(): Promise<Readiness> {
    for (let attempt = 0; ; attempt++) {
      try {
        const reply = await this.#call({ type: "probe" });
        return reply.type === "probed" ? reply.readiness : { ready: false, reason: "unexpected reply" };
      } catch (err) {
        const e = err as StorageError;
        if (e.kind !== "busy" || attempt >= PROBE_BUSY_RETRIES) return { ready: false, reason: `storage ${e.kind}: ${e.message}` };
      }
      await Bun.sleep(PROBE_BUSY_PAUSE_MS);
    }
  }

  /** An admin API operation, run where the one write connection is (admin/ops.ts). */
  async admin(op: AdminOp): Promise<AdminAnswer> {
    const reply = await this.#call({ type: "admin", op });
    if (reply.type !== "admin") throw new StorageError("other", `writer thread answered ${reply.type} to an admin call`);
    return reply.answer;
  }

  /** The writer thread's counters and the gauges read from the database, for GET /metrics. */
  async metrics(): Promise<{ snapshot: Snapshot; gauges: Gauge[] }> {
    const reply = await this.#call({ type: "metrics" });
    if (reply.type !== "metrics") throw new StorageError("other", `writer thread answered ${reply.type} to a metrics call`);
    return { snapshot: reply.snapshot, gauges: reply.gauges };
  }

  /** Applies a reloaded config in the writer thread (writer/thread.ts `reload`). */
  async reload(settings: WriterSettings): Promise<void> {
    const reply = await this.#call({ type: "reload", ...settings });
    if (reply.type !== "reloaded") throw new StorageError("other", `writer thread answered ${reply.type} to a reload`);
    // A thread started after this (the old one crashed) must open with these settings.
    Object.assign(this.open, settings);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (!this.#worker) return;
    await this.#call({ type: "close" });
    this.#worker.terminate();
    this.#worker = null;
    this.#ready = null;
  }

  async #call(request: Call): Promise<WriterReply> {
    await this.#ensureStarted();
    const seq = ++this.#seq;
    return new Promise<WriterReply>((resolve, reject) => {
      this.#waiters.set(seq, { resolve, reject });
      this.#worker!.postMessage({ ...request, seq });
    });
  }

  #ensureStarted(): Promise<void> {
    if (this.#ready) return this.#ready;
    const worker = new Worker(workerUrl("writer/thread.ts"));
    this.#worker = worker;
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#waiters.set(0, {
        resolve: () => resolve(),
        reject: (err) => {
          this.#discard(worker);
          reject(err);
        },
      });
    });
    worker.onmessage = (event: MessageEvent<WriterReply>) => this.#settle(event.data);
    worker.onerror = (event) => {
      this.log.error("writer thread crashed; starting a new one", { error: event.message });
      this.#discard(worker);
      this.#failAll(new StorageError("other", `writer thread crashed: ${event.message}`));
      this.#restartAfter(RESTART_PAUSE_MS);
    };
    worker.postMessage(this.open);
    return this.#ready;
  }

  #restartAfter(pauseMs: number) {
    setTimeout(() => {
      if (this.#closed || this.#ready) return; // stopping, or a call has started one already
      this.#ensureStarted().then(
        () => this.log.info("writer thread started again"),
        (err) => {
          const next = Math.min(pauseMs * 2, RESTART_PAUSE_MAX_MS);
          this.log.error("writer thread did not start; trying again", { error: err, retry_in_ms: next });
          this.#restartAfter(next);
        },
      );
    }, pauseMs);
  }

  #settle(reply: WriterReply) {
    const waiter = this.#waiters.get(reply.seq);
    if (!waiter) return;
    this.#waiters.delete(reply.seq);
    if (reply.type === "failed") waiter.reject(new StorageError(reply.kind, reply.message, reply.code));
    else if (reply.type === "bug") waiter.reject(new InternalError(reply.message));
    else waiter.resolve(reply);
  }

  #discard(worker: Worker) {
    if (this.#worker !== worker) return;
    worker.terminate();
    this.#worker = null;
    this.#ready = null;
  }

  #failAll(err: StorageError) {
    for (const waiter of this.#waiters.values()) waiter.reject(err);
    this.#waiters.clear();
  }
}
