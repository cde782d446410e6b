/**
 * Builds the scheduled side inside the writer thread: the croner jobs (`retention`
 * always; `alerts` with an [alerts] url; `stale` and `fallback` with fallback on),
 * the alerter, and the fallback tracker and sender.
 */
import type { Database } from "bun:sqlite";
import { AlertSender } from "../alerts/sender";
import { Alerter } from "../alerts/alerter";
import type { Config } from "../config/schema";
import { parseDuration } from "../config/duration";
import { eventPlanner } from "../events/raise";
import { sqliteSweeper } from "../store/sweeper-engine";
import { eventIds } from "../store/event-ids";
import { trackingStore } from "../store/tracking-store";
import { noticeStore } from "../store/notice-store";
import { alertStore } from "../store/alert-store";
import { sqliteSendQueue } from "../store/send-queue";
import type { Clock } from "../util/clock";
import type { Logger } from "../util/log";
import { Jobs, type JobDef } from "./jobs";
import { retentionJob } from "./retention";
import { FallbackSender } from "./sender";
import { staleJob } from "./sweep";
import { Tracker } from "./tracker";
import type { GiveWay } from "../worker/share";
import { eventRaiser } from "../store/event-raiser";

export type SweeperSettings = Pick<Config, "fallback" | "sweeper" | "hooks" | "alerts" | "storage">;

export interface Sweeper {
  /** null when fallback is off: nothing is tracked. */
  tracker: Tracker | null;
  alerter: Alerter;
  jobs: Jobs;
}

/** One timer that runs `job` at the time last asked (at once if that has passed); the schedule stays the backstop. */
export function wakeAt(job: () => void, clock: Clock): (at: number) => void {
  let timer: Timer | undefined;
  return (at) => {
    clearTimeout(timer);
    // setTimeout's longest wait is 2^31 - 1 ms (~24.8 days); a later retry is the schedule's.
    const ms = Math.max(0, at - clock.now());
    if (ms > 2 ** 31 - 1) return;
    timer = setTimeout(job, ms);
    timer.unref();
  };
}

/** `giveWay` paces the jobs' steps while webhooks arrive (worker/share.ts); outside the daemon nothing waits. */
export function buildSweeper(db: Database, settings: SweeperSettings, clock: Clock, log: Logger, instance: string, giveWay: GiveWay = () => Bun.sleep(0)): Sweeper {
  const { fallback, sweeper, alerts } = settings;
  const defs: JobDef[] = [];
  // A new alert, or an SMS decided now (a failure, a sweep), goes out now; the schedules are the backstop.
  const kick = (name: string) => () => jobs.kick(name);
  const alerter = new Alerter(alertStore(db), alerts, log, kick("alerts"));
  let tracker: Tracker | null = null;
  const sms = fallback.sms;
  if (fallback.enabled && sms) {
    const raise = eventRaiser(db, settings.hooks);
    tracker = new Tracker(trackingStore(db), noticeStore(db), fallback, raise, eventPlanner(eventIds(db), settings.hooks), sqliteSweeper(db), log, kick("fallback"));
    const sender = new FallbackSender(sqliteSendQueue(db, tracker), sms, clock, log, instance, { alerter, after: alerts.sms_failures }, giveWay, wakeAt(kick("fallback"), clock));
    defs.push(
      { name: "stale", schedule: sweeper.schedule, leaseMs: 5 * 60_000, run: staleJob(db, tracker, fallback, sweeper.batch_size, clock, log, raise, alerter, giveWay) },
      { name: "fallback", schedule: sweeper.fallback_schedule, leaseMs: parseDuration(sms.timeout)! + 60_000, run: async () => ({ ...(await sender.run(sms.concurrency)) }) },
    );
  }
  if (alerts.url) {
    const sender = new AlertSender(alertStore(db), { ...alerts, url: alerts.url }, clock, log, instance);
    defs.push({ name: "alerts", schedule: alerts.schedule, leaseMs: parseDuration(alerts.timeout)! + 60_000, run: async () => ({ ...(await sender.run(100)) }) });
  }
  defs.push({ name: "retention", schedule: sweeper.retention_schedule, leaseMs: 60 * 60_000, run: retentionJob(db, parseDuration(settings.storage.retention)!, sweeper.batch_size, clock, giveWay) });
  const jobs = new Jobs(db, defs, clock, log, instance);
  return { tracker, alerter, jobs };
}
