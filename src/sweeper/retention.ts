/**
 * The `retention` job: deletes what is older than `storage.retention` in small
 * transactions (ingestion goes first between them), then gives freed pages back to
 * the file system a few MiB at a time (PRAGMA incremental_vacuum; a database file made
 * before this job existed needs one offline `wa-webhookd vacuum`). Dedup keys live at least 8 days
 * whatever the retention: Meta retries a webhook for up to 7 days, and a retry
 * after its key is gone would be processed twice.
 */
import type { Database } from "bun:sqlite";
import { retentionStore, type Key, type Walk } from "../store/retention-store";
import { statsStore } from "../store/stats-store";
import type { GiveWay } from "../worker/share";
import type { Clock } from "../util/clock";

const DAY_MS = 86_400_000;
const DEDUP_KEEP_MIN_MS = 8 * DAY_MS;
/** Pages (4 KiB) given back per step of incremental_vacuum. */
const VACUUM_STEP_PAGES = 2048;

/** Pure: the cut-offs of one run. The per-minute counts behind /v1/stats cover its 7-day view too. */
export function retentionCutoffs(now: number, retentionMs: number) {
  const keepAtLeast8Days = now - Math.max(retentionMs, DEDUP_KEEP_MIN_MS);
  return { cutoff: now - retentionMs, dedupCutoff: keepAtLeast8Days, statsCutoff: keepAtLeast8Days };
}

export function retentionJob(db: Database, retentionMs: number, batchSize: number, clock: Clock, giveWay: GiveWay) {
  const store = retentionStore(db);
  const counts = statsStore(db);
  const pageSize = batchSize * 4;
  /** Runs one step in its own transaction, then gives way to ingestion. */
  const step = async <T>(work: () => T): Promise<T> => {
    const started = performance.now();
    const result = db.transaction(work).immediate();
    await giveWay(performance.now() - started);
    return result;
  };

  /** Runs `step` in its own transaction until it deletes less than a batch. */
  const repeat = async (deleteBatch: () => number) => {
    let total = 0;
    for (;;) {
      const n = await step(deleteBatch);
      total += n;
      if (n < batchSize) return total;
    }
  };
  /** Walks a table by key, one page per transaction. */
  const walk = async (start: Key, deletePage: (cutoff: number, after: Key, limit: number) => Walk<Key>, cutoff: number) => {
    let total = 0;
    let after: Key | null = start;
    while (after !== null) {
      const from: Key = after;
      const page: Walk<Key> = await step(() => deletePage(cutoff, from, pageSize));
      total += page.deleted;
      after = page.next;
    }
    return total;
  };

  return async (): Promise<Record<string, unknown>> => {
    const { cutoff, dedupCutoff, statsCutoff } = retentionCutoffs(clock.now(), retentionMs);
    // Children before parents: deliveries, then events, then the inbox rows they came from.
    const deleted = {
      deliveries: await repeat(() => store.deliveries(cutoff, batchSize)),
      events: await repeat(() => store.events(cutoff, batchSize)),
      inbox: await walk([0], store.inbox, cutoff),
      dedup_keys: await walk([""], store.dedupKeys, dedupCutoff),
      outbound: await walk([""], store.outbound, cutoff),
      tracked: await walk([""], store.tracked, cutoff),
      inbound: await walk([""], store.inbound, cutoff),
      state_history: await walk(["", "", "", ""], store.history, cutoff),
      alerts: await repeat(() => store.alerts(cutoff, batchSize)),
      stats_minutes: await step(() => counts.prune(statsCutoff)),
    };
    const freed = await giveBackFreePages(store, giveWay);
    return { cutoff: new Date(cutoff).toISOString(), ...deleted, freed_pages: freed, free_pages_left: store.freePages() };
  };
}

/** Gives every free page back to the file system, a few MiB per step, giving way between steps; how many. */
export async function giveBackFreePages(store: Pick<ReturnType<typeof retentionStore>, "vacuumStep">, giveWay: GiveWay): Promise<number> {
  let freed = 0;
  for (;;) {
    const started = performance.now();
    const n = store.vacuumStep(VACUUM_STEP_PAGES);
    freed += n;
    if (n < VACUUM_STEP_PAGES) return freed;
    await giveWay(performance.now() - started);
  }
}
