/**
 * The `retention` job: deletes what is older than `storage.retention` in small
 * transactions (ingestion goes first between them), then gives freed pages back to
 * the file system a few MiB at a time (PRAGMA incremental_vacuum; a database file made
 * before this job existed needs one offline `wa-webhookd vacuum`). Dedup keys live at least 8 days
 * whatever the retention: Meta retries a webhook for up to 7 days, and a retry
 * after its key is gone would be processed twice.
 */
import type { Database } from "bun:sqlite";
import { retentionStore, type Walk } from "../store/retention-store";
import type { Clock } from "../util/clock";

const DAY_MS = 86_400_000;
export const DEDUP_KEEP_MIN_MS = 8 * DAY_MS;
/** Pages (4 KiB) given back per step of incremental_vacuum. */
const VACUUM_STEP_PAGES = 2048;

/** Pure: the cut-offs of one run. */
export function retentionCutoffs(now: number, retentionMs: number) {
  return { cutoff: now - retentionMs, dedupCutoff: now - Math.max(retentionMs, DEDUP_KEEP_MIN_MS) };
}

export function retentionJob(db: Database, retentionMs: number, batchSize: number, clock: Clock) {
  const store = retentionStore(db);
  const pageSize = batchSize * 4;

  /** Runs `step` in its own transaction until it deletes less than a batch. */
  const repeat = async (step: () => number) => {
    let total = 0;
    for (;;) {
      const n = db.transaction(step).immediate();
      total += n;
      if (n < batchSize) return total;
      await Bun.sleep(0);
    }
  };
  /** Walks a table by key, one page per transaction. */
  const walk = async <K>(start: K, step: (after: K) => Walk<K>) => {
    let total = 0;
    let after: K | null = start;
    while (after !== null) {
      const page: Walk<K> = db.transaction(() => step(after!)).immediate();
      total += page.deleted;
      after = page.next;
      await Bun.sleep(0);
    }
    return total;
  };

  return async (): Promise<Record<string, unknown>> => {
    const { cutoff, dedupCutoff } = retentionCutoffs(clock.now(), retentionMs);
    // Children before parents: deliveries, then events, then the inbox rows they came from.
    const deleted = {
      deliveries: await repeat(() => store.deliveries(cutoff, batchSize)),
      events: await repeat(() => store.events(cutoff, batchSize)),
      inbox: await walk(0, (after) => store.inbox(cutoff, after, pageSize)),
      dedup_keys: await walk("", (after) => store.dedupKeys(dedupCutoff, after, pageSize)),
      outbound: await walk("", (after) => store.outbound(cutoff, after, pageSize)),
      tracked: await walk("", (after) => store.tracked(cutoff, after, pageSize)),
      inbound: await walk("", (after) => store.inbound(cutoff, after, pageSize)),
      state_history: await walk<readonly [string, string, string, string]>(["", "", "", ""], (after) => store.history(cutoff, after, pageSize)),
      alerts: await repeat(() => store.alerts(cutoff, batchSize)),
    };
    let freed = 0;
    for (;;) {
      const n = store.vacuumStep(VACUUM_STEP_PAGES);
      freed += n;
      if (n < VACUUM_STEP_PAGES) break;
      await Bun.sleep(0);
    }
    return { cutoff: new Date(cutoff).toISOString(), ...deleted, freed_pages: freed, free_pages_left: store.freePages() };
  };
}
