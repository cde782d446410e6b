/**
 * Named jobs on croner schedules (`protect`: a run never overlaps the previous one),
 * each run also holding a lease row in SQLite so a manual run (POST /v1/jobs/{name}/run)
 * and a scheduled one never overlap either. A log line per run (at debug when it did
 * nothing, at info saying what it did: run-report.ts); errors are caught,
 * logged and counted, never fatal. Queries are level-triggered (`deadline <= now`):
 * the first run after downtime catches up without replaying missed ticks.
 */
import { metrics } from "../metrics/catalogue";
import { Cron } from "croner";
import { jobStore, type JobStore } from "../store/job-store";
import type { Database } from "bun:sqlite";
import type { Clock } from "../util/clock";
import { leaseToken } from "../util/ids";
import type { Logger } from "../util/log";
import { isoOrNull } from "../util/time";
import { runReport } from "./run-report";

export interface JobDef {
  name: string;
  schedule: string;
  /** Longest a run may take before another may take its lease. */
  leaseMs: number;
  run(): Promise<Record<string, unknown>>;
}

export type RunResult = { ran: true; result: Record<string, unknown>; duration_ms: number } | { ran: false; reason: string };

export class Jobs {
  readonly #store: JobStore;
  readonly #crons: Cron[] = [];
  readonly #kicked = new Set<string>();
  /** Runs in progress: a stop gives them a grace to finish (an SMS request out is recorded, not sent again after restart). */
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(
    db: Database,
    private readonly defs: readonly JobDef[],
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly instance: string,
  ) {
    this.#store = jobStore(db);
  }

  /** Leases of jobs an earlier, crashed run of this instance was running. */
  recoverLeases(): number {
    return this.#store.recover(this.instance);
  }

  start() {
    for (const def of this.defs) {
      declareJobMetrics(def.name);
      // run() never throws: croner's own `catch` is not needed.
      this.#crons.push(new Cron(def.schedule, { name: def.name, protect: true }, async () => void (await this.run(def.name))));
    }
  }

  /**
   * Runs a job now, unless it is running; a failure is logged, counted and answered,
   * never thrown: these runs start from timers in the writer thread, where an
   * exception nobody catches would end the thread, and with it processing and delivery.
   */
  async run(name: string): Promise<RunResult> {
    const def = this.defs.find((d) => d.name === name);
    if (!def) return { ran: false, reason: "no such job" };
    const token = leaseToken(this.instance);
    const started = this.clock.now();
    try {
      if (!this.#store.acquire(name, token, started + def.leaseMs, started)) return { ran: false, reason: "already running" };
    } catch (err) {
      // The lease row could not be written (another process holds the write lock, the disk is full): the next tick tries again.
      this.log.warn("job not started", { job: name, error: err });
      return { ran: false, reason: `not started: ${(err as Error).message}` };
    }
    const t0 = performance.now();
    const running = def.run();
    this.#inFlight.add(running);
    try {
      const result = await running;
      const duration_ms = Math.round(performance.now() - t0);
      this.#finish(name, token, result, null);
      countJobRun(name, "ok", t0);
      const did = runReport(name, result);
      if (did === null) this.log.debug("job run", { job: name, duration_ms, ...result });
      else this.log.info("job run", { job: name, did, duration_ms, ...result });
      return { ran: true, result, duration_ms };
    } catch (err) {
      const reason = `failed: ${(err as Error).message}`;
      this.#finish(name, token, undefined, reason);
      countJobRun(name, "error", t0);
      this.log.error("job run failed", { job: name, error: err });
      return { ran: false, reason };
    } finally {
      this.#inFlight.delete(running);
    }
  }

  /** Releases the lease with the run's outcome; if that write fails, the lease expires by itself. */
  #finish(name: string, token: string, result: Record<string, unknown> | undefined, error: string | null) {
    try {
      this.#store.finish(name, token, this.clock.now(), result, error);
    } catch (err) {
      this.log.error("job run not recorded; its lease expires by itself", { job: name, error: err });
    }
  }

  /**
   * Runs a job soon (once per turn of the event loop, however often it is asked), if
   * the schedules are started; the caller's transaction commits first.
   */
  kick(name: string) {
    if (this.#crons.length === 0 || this.#kicked.has(name)) return;
    this.#kicked.add(name);
    setTimeout(() => {
      this.#kicked.delete(name);
      void this.run(name);
    }, 0);
  }

  names() {
    return this.defs.map((d) => d.name);
  }

  list() {
    return this.defs.map((def) => {
      const row = this.#store.get(def.name);
      const cron = this.#crons.find((c) => c.name === def.name);
      return {
        name: def.name,
        schedule: def.schedule,
        running: row?.lease_until != null && row.lease_until > this.clock.now(),
        last_started_at: isoOrNull(row?.last_started_at),
        last_finished_at: isoOrNull(row?.last_finished_at),
        last_result: row?.last_result ? JSON.parse(row.last_result) : null,
        last_error: row?.last_error ?? null,
        runs: row?.runs ?? 0,
        failures: row?.failures ?? 0,
        next_run: (cron?.nextRun() ?? nextRun(def.schedule))?.toISOString() ?? null,
        ...(def.name === "stale" ? { held_since: isoOrNull(row?.held_since) } : {}),
      };
    });
  }

  /** Stops the schedules; runs in progress get up to `graceMs` to finish (a longer one goes on, its lease ends by itself). */
  async stop(graceMs = 0) {
    for (const cron of this.#crons) cron.stop();
    if (this.#inFlight.size > 0) await Promise.race([Promise.allSettled([...this.#inFlight]), Bun.sleep(graceMs)]);
  }
}

/** When a schedule fires next, for a job not started here (`wa-webhookd jobs list`). */
function nextRun(schedule: string): Date | null {
  const cron = new Cron(schedule, { paused: true });
  const next = cron.nextRun();
  cron.stop();
  return next;
}

/** A scheduled job's series, at 0 until it first runs. */
export function declareJobMetrics(job: string) {
  for (const result of ["ok", "error"]) metrics.declare("wa_job_runs_total", { job, result });
  metrics.declare("wa_job_seconds_total", { job });
}

/** One run of a job that ran here, started at `t0` (performance.now()). */
export function countJobRun(job: string, result: "ok" | "error", t0: number) {
  metrics.inc("wa_job_runs_total", { job, result });
  metrics.inc("wa_job_seconds_total", { job }, (performance.now() - t0) / 1000);
}
