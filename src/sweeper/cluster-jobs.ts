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
import { countJobRun, declareJobMetrics, type RunResult } from "./jobs";
import { runReport } from "./run-report";

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
      declareJobMetrics(job.name);
      this.#crons.push(
        new Cron(job.schedule, { name: `cluster:${job.name}`, protect: true }, async () => {
          this.#running = this.fire(job);
          await this.#running;
        }),
      );
    }
  }

  /** The jobs this instance schedules. */
  list(): readonly { name: string; schedule: string }[] {
    return this.jobs.map(({ name, schedule }) => ({ name, schedule }));
  }

  /** Stops scheduling; a run in progress finishes. */
  async stop() {
    for (const c of this.#crons.splice(0)) c.stop();
    await this.#running;
  }

  /** One fire of a job: run here if this instance records it first. Answers whether it ran here. */
  async fire(job: ClusterJob, now = this.clock.now()): Promise<boolean> {
    return (await this.#runAt(job, scheduledTime(job.schedule, now), now)).claimed;
  }

  /**
   * A run asked for now (`wa-webhookd jobs run`, POST /v1/jobs/{name}/run), recorded as a fire at this instant: it
   * takes no scheduled fire's place, and the jobs are idempotent, so one that overlaps a
   * scheduled run only shares its work.
   */
  async runNow(name: string): Promise<RunResult> {
    const job = this.jobs.find((j) => j.name === name);
    if (!job) return { ran: false, reason: "no such job" };
    const now = this.clock.now();
    return (await this.#runAt(job, now, now)).outcome;
  }

  async #runAt(job: ClusterJob, fireAt: number, now: number): Promise<{ claimed: boolean; outcome: RunResult }> {
    try {
      if (!(await this.runs.claim(job.name, fireAt, this.instance, now))) return { claimed: false, outcome: { ran: false, reason: "another instance runs this fire" } };
    } catch (err) {
      this.log.warn("scheduled job not started: the database did not answer", { job: job.name, error: err });
      return { claimed: false, outcome: { ran: false, reason: `not started: ${(err as Error).message}` } };
    }
    const t0 = performance.now();
    try {
      const result = await job.run();
      await this.runs.finish(job.name, fireAt, this.clock.now(), { result });
      countJobRun(job.name, "ok", t0);
      const duration_ms = Math.round(performance.now() - t0);
      // As on SQLite (sweeper/jobs.ts): a run that did something at info, saying what; one that did nothing at debug.
      const did = runReport(job.name, result);
      if (did === null) this.log.debug("job run", { job: job.name, fire_at: new Date(fireAt).toISOString(), duration_ms, ...result });
      else this.log.info("job run", { job: job.name, did, fire_at: new Date(fireAt).toISOString(), duration_ms, ...result });
      return { claimed: true, outcome: { ran: true, result, duration_ms } };
    } catch (err) {
      countJobRun(job.name, "error", t0);
      this.log.error("job run failed", { job: job.name, fire_at: new Date(fireAt).toISOString(), error: err });
      await this.runs.finish(job.name, fireAt, this.clock.now(), { error: (err as Error).message }).catch(() => {});
      return { claimed: true, outcome: { ran: false, reason: (err as Error).message } };
    }
  }
}

/** The latest time the schedule names at or before `now` (a little after, for a late timer). */
export function scheduledTime(schedule: string, now: number): number {
  const [latest] = new Cron(schedule, { paused: true }).previousRuns(1, new Date(now + LATE_TOLERANCE_MS));
  return latest ? latest.getTime() : Math.floor(now / 1000) * 1000;
}
