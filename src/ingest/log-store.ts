/**
 * The InboxStore the webhook handler commits to: a batch is acknowledged once the
 * segment log holds it (store/segment-log.ts); the writer thread, told how far the log
 * goes, reads it from there and indexes it into SQLite behind; the log keeps it until
 * that index is durable.
 */
import type { SegmentLog } from "../store/segment-log";
import type { HealthStore, InboxRecord, InboxStore, Readiness } from "../store/types";
import type { WriterThread } from "../writer/client";

/** How often the log is told how far the index goes durably (and deletes what lies before). */
export const RECYCLE_EVERY_MS = 1_000;
/** An erasure waits at most this long for the log to hold nothing indexed (a copy of the person). */
const PURGE_TIMEOUT_MS = 2_000;

export class LogStore implements InboxStore, HealthStore {
  constructor(
    private readonly log: SegmentLog,
    private readonly writer: WriterThread,
  ) {}

  async appendBatch(records: readonly InboxRecord[]): Promise<number[]> {
    const { ids } = await this.log.append(records);
    this.writer.logged(ids.at(-1)!);
    return ids;
  }

  /** Ready while the log takes durable writes (a full disk: not) and the database does too. */
  async probe(): Promise<Readiness> {
    const failing = await this.log.probe();
    if (failing) return { ready: false, reason: `inbox log ${failing.kind}: ${failing.message}` };
    return this.writer.probe();
  }

  /** Deletes log segments whose webhooks are all indexed durably (and seals an old current one). */
  async recycle(): Promise<number> {
    return this.log.recycle(await this.writer.indexedThrough());
  }

  /** The newest id written so far: an erasure that starts now must leave no frame up to it behind. */
  get lastId(): number {
    return this.log.nextId - 1;
  }

  /**
   * After an erasure: no segment may keep a copy of what it deleted, i.e. a frame up to
   * `cutoff` (what came later is news). Those are indexed (and so erased) within moments;
   * then their segments go. False if they are still kept at the deadline.
   */
  async purge(cutoff: number): Promise<boolean> {
    const deadline = Date.now() + PURGE_TIMEOUT_MS;
    for (;;) {
      await this.log.recycle(await this.writer.indexedThrough(), cutoff);
      if (!this.log.holds(cutoff)) return true;
      if (Date.now() >= deadline) return false;
      await Bun.sleep(10);
    }
  }
}
