/**
 * The `stale` job on the PostgreSQL engine: the same outage guard and batches as
 * sweep.ts, on state every instance shares (job_state) and batches that lock their
 * messages (store/postgres/sweeper-engine.ts). It runs once per schedule across the
 * cluster (cluster-jobs.ts).
 */
import type { Alerter } from "../alerts/alerter";
import { fallbackHeldAlert } from "../alerts/rules";
import type { FallbackSettings } from "../config/schema";
import type { PlanEvent } from "../events/raise";
import type { PostgresSweeper } from "../store/postgres/sweeper-engine";
import type { Clock } from "../util/clock";
import type { Logger } from "../util/log";
import { planStale } from "./stale-plan";
import { FIRST_WINDOW_MS, guardTrips } from "./sweep";

export function postgresStaleJob(engine: PostgresSweeper, settings: FallbackSettings, batchSize: number, clock: Clock, log: Logger, planEvent: PlanEvent, alerter: Alerter, onDue: () => void) {
  const hold = async (since: number, now: number, window: { total: number; stale: number }) => {
    const data = { since: new Date(since).toISOString(), deadlines: window.total, undelivered: window.stale, max_stale_ratio: settings.max_stale_ratio };
    const draft = fallbackHeldAlert(since, window, settings.max_stale_ratio);
    const stored = await engine.setHeld("stale", since, now, [planEvent("fallback.held", data, `held:${since}`, now)], [{ draft, state: alerter.stateFor(draft) }]);
    for (const a of stored) alerter.announce(a.id, a.draft, a.state);
  };

  return async (): Promise<Record<string, unknown>> => {
    const now = clock.now();
    const state = await engine.state("stale");
    const from = state.held_since ?? state.window_end ?? now - FIRST_WINDOW_MS;
    const window = await engine.deadlineWindow(from, now);
    if (guardTrips(window, settings.max_stale_ratio)) {
      if (state.held_since === null) {
        await hold(from, now, window);
        log.error("fallback held: most messages past their deadline have no delivery status; is Meta reaching us?", { ...window, since: new Date(from).toISOString() });
      }
      // As SQLite's last_finished_at: once resumed, the guard looks only at deadlines after this run.
      await engine.windowEnded("stale", now);
      return { held: true, ...window };
    }
    if (state.held_since !== null) {
      await engine.setHeld("stale", null, now);
      log.info("fallback resumed: delivery statuses flow again", window);
    }
    const totals = { held: false, stale: 0, pending: 0, settled: 0, busy: 0 };
    for (;;) {
      const at = clock.now();
      const { planned, fresh, sends, busy } = await engine.sweepStale(at, batchSize, (due) => planStale(due, at, settings, planEvent));
      if (planned.writes.sends.some((s) => s.state === "pending" && sends.has(s.wamid))) onDue();
      for (const n of planned.notSent) if (fresh.has(n.eventId)) log.info("sms fallback not sent", { wamid: n.wamid, state: n.state, reason: n.why });
      totals.stale += planned.stale;
      totals.pending += planned.pending;
      totals.settled += planned.stale - planned.pending;
      totals.busy += busy;
      if (planned.stale + busy < batchSize || planned.stale === 0) break;
    }
    await engine.windowEnded("stale", now);
    return totals;
  };
}
