/**
 * The `stale` job: tracked messages past their deadline, in batches of
 * `sweeper.batch_size`, each batch one transaction, the thread given back to
 * ingestion between batches. First the outage guard: when Meta could not reach us,
 * every message looks undelivered; SMSing them would double-deliver. If more than
 * `fallback.max_stale_ratio` of the deadlines since the last sweep (at least
 * MIN_GUARD_SAMPLE) are still undelivered, every fallback is held and `fallback.held`
 * raised, until a sweep sees the ratio back under (statuses flowed again) or an
 * operator resumes (POST /v1/jobs/stale/resume).
 */
import type { Database } from "bun:sqlite";
import type { Alerter } from "../alerts/alerter";
import { fallbackHeldAlert } from "../alerts/rules";
import type { FallbackSettings } from "../config/schema";
import type { RaiseEvent } from "../events/raise";
import { jobStore } from "../store/job-store";
import { deadlineWindow } from "../store/tracking-store";
import type { Clock } from "../util/clock";
import type { Logger } from "../util/log";
import type { GiveWay } from "../worker/share";
import type { Tracker } from "./tracker";

export const MIN_GUARD_SAMPLE = 20;
/** The first sweep ever looks this far back for the guard. */
export const FIRST_WINDOW_MS = 60 * 60_000;

/** Pure: does this window trip the guard? */
export function guardTrips(window: { total: number; stale: number }, maxStaleRatio: number): boolean {
  return window.total >= MIN_GUARD_SAMPLE && window.stale / window.total > maxStaleRatio;
}

export function staleJob(db: Database, tracker: Tracker, settings: FallbackSettings, batchSize: number, clock: Clock, log: Logger, raise: RaiseEvent, alerter: Alerter, giveWay: GiveWay) {
  const jobs = jobStore(db);
  const setHeld = db.transaction((since: number | null, now: number, window: { total: number; stale: number }) => {
    jobs.setHeld("stale", since);
    if (since === null) return;
    raise("fallback.held", { since: new Date(since).toISOString(), deadlines: window.total, undelivered: window.stale, max_stale_ratio: settings.max_stale_ratio }, `held:${since}`, now);
    alerter.raise(fallbackHeldAlert(since, window, settings.max_stale_ratio), now);
  });

  return async (): Promise<Record<string, unknown>> => {
    const now = clock.now();
    const row = jobs.get("stale");
    const heldSince = row?.held_since ?? null;
    const from = heldSince ?? row?.last_finished_at ?? now - FIRST_WINDOW_MS;
    const window = deadlineWindow(db, from, now);
    if (guardTrips(window, settings.max_stale_ratio)) {
      if (heldSince === null) {
        setHeld.immediate(from, now, window);
        log.error("fallback held: most messages past their deadline have no delivery status; is Meta reaching us?", { ...window, since: new Date(from).toISOString() });
      }
      return { held: true, ...window };
    }
    if (heldSince !== null) {
      setHeld.immediate(null, now, window);
      log.info("fallback resumed: delivery statuses flow again", window);
    }
    const totals = { held: false, stale: 0, pending: 0, settled: 0 };
    for (;;) {
      const started = performance.now();
      const r = tracker.sweepBatch(clock.now(), batchSize);
      totals.stale += r.stale;
      totals.pending += r.pending;
      totals.settled += r.settled;
      if (r.stale < batchSize) break;
      await giveWay(performance.now() - started);
    }
    return totals;
  };
}
