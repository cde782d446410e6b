/** Builds the fallback machinery inside the writer thread: tracker, sender, and the croner jobs. */
import type { Database } from "bun:sqlite";
import type { Config } from "../config/schema";
import { parseDuration } from "../config/duration";
import { eventRaiser } from "../events/raise";
import type { Clock } from "../util/clock";
import type { Logger } from "../util/log";
import { Jobs } from "./jobs";
import { FallbackSender } from "./sender";
import { staleJob } from "./sweep";
import { Tracker } from "./tracker";

export type SweeperSettings = Pick<Config, "fallback" | "sweeper" | "hooks">;

export interface Sweeper {
  tracker: Tracker;
  jobs: Jobs;
}

/** null when fallback is off: nothing is tracked, no job runs. */
export function buildSweeper(db: Database, settings: SweeperSettings, clock: Clock, log: Logger, instance: string): Sweeper | null {
  const { fallback, sweeper } = settings;
  if (!fallback.enabled || !fallback.sms) return null;
  const raise = eventRaiser(db, settings.hooks);
  // An SMS decided now (a failure, a sweep) goes out now; the schedule is the backstop.
  const tracker = new Tracker(db, fallback, raise, () => jobs.kick("fallback"));
  const sender = new FallbackSender(db, tracker, fallback.sms, clock, log, instance);
  const smsLeaseMs = parseDuration(fallback.sms.timeout)! + 60_000;
  const jobs = new Jobs(
    db,
    [
      { name: "stale", schedule: sweeper.schedule, leaseMs: 5 * 60_000, run: staleJob(db, tracker, fallback, sweeper.batch_size, clock, log, raise) },
      { name: "fallback", schedule: sweeper.fallback_schedule, leaseMs: smsLeaseMs, run: async () => ({ ...(await sender.run(sweeper.batch_size)) }) },
    ],
    clock,
    log,
    instance,
  );
  return { tracker, jobs };
}
