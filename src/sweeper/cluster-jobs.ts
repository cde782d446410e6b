/**
 * Scheduled jobs across the instances sharing a PostgreSQL database: every instance
 * keeps the schedules, and at each fire the first to record (job, fire time) runs it
 * (store/postgres/scheduled-runs.ts); the others skip that fire. The fire time is the
 * schedule's (the latest scheduled time at or before now), the same on every instance
 * whose clock is within the schedule's period of the others'.
 */
import { Cron } from "croner";
import type { Logger } from "../util/log";
import type { Clock } from "../util/clock";
import type { scheduledRuns } from "../store/postgres/scheduled-runs";

export interface ClusterJob {
  name: string;
  schedule: string;
  run(): Promise<Record<string, unknown>>;
}

/** A fire noticed this late is still the same fire. */
const LATE_TOLERANCE_MS = 500;

export class ClusterJobs {
  readonly #crons: Cron[] = [];
  #running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly jobs: readonly ClusterJob[],
    private readonly runs: ReturnType<typeof scheduledRuns>,
    private readonly instance: string,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  start() {
    // The callback answers the run's promise: croner's `protect` skips a fire while the previous run is still going (a
    // callback answering at once let a run longer than the period be joined by the next fire's, until they held every connection).
    for (const job of this.jobs) {
      this.#crons.push(
        new Cron(job.schedule, { name: `cluster:${job.name}`, protect: true }, async () => {
          this.#running = this.fire(job);
          await this.#running;
        }),
      );
    }
  }

  /** Stops scheduling; a run in progress finishes. */
  async stop() {
    for (const c of this.#crons.splice(0)) c.stop();
    await this.#running;
  }

  /** One fire of a job: run here if this instance records it first. Answers whether it ran here. */
  async fire(job: ClusterJob, now = this.clock.now()): Promise<boolean> {
    const fireAt = scheduledTime(job.schedule, now);
    try {
      if (!(await this.runs.claim(job.name, fireAt, this.instance, now))) return false;
    } catch (err) {
      this.log.warn("scheduled job not started: the database did not answer", { job: job.name, error: err });
      return false;
    }
    try {
      const result = await job.run();
      await this.runs.finish(job.name, fireAt, this.clock.now(), { result });
      this.log.info("scheduled job ran", { job: job.name, fire_at: new Date(fireAt).toISOString(), result });
    } catch (err) {
      this.log.error("scheduled job failed", { job: job.name, fire_at: new Date(fireAt).toISOString(), error: err });
      await this.runs.finish(job.name, fireAt, this.clock.now(), { error: (err as Error).message }).catch(() => {});
    }
    return true;
  }
}

/** The latest time the schedule names at or before `now` (a little after, for a late timer). */
export function scheduledTime(schedule: string, now: number): number {
  const [latest] = new Cron(schedule, { paused: true }).previousRuns(1, new Date(now + LATE_TOLERANCE_MS));
  return latest ? latest.getTime() : Math.floor(now / 1000) * 1000;
}
