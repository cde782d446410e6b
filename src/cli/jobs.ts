/**
 * `wa-webhookd jobs list|run NAME --config F`: the daemon's scheduled jobs, run here
 * and now on the database, with or without a running daemon. On SQLite the job's lease
 * in the file keeps this run and the daemon's from overlapping (the same Jobs as
 * GET /v1/jobs and POST /v1/jobs/{name}/run); on PostgreSQL a run is recorded among the
 * instances' runs (sweeper/cluster-jobs.ts), so GET /v1/jobs on any instance shows it.
 * The full config is read (`fallback` and `alerts` send, so their secrets must be in the
 * environment, as for the daemon).
 */
import { hostname } from "node:os";
import type { Config } from "../config/schema";
import { postgresAdminOps } from "../admin/postgres-ops";
import { scheduledRuns } from "../store/postgres/scheduled-runs";
import { ClusterJobs } from "../sweeper/cluster-jobs";
import type { Jobs, RunResult } from "../sweeper/jobs";
import { postgresJobs } from "../sweeper/postgres-jobs";
import { PostgresFallback } from "../sweeper/postgres-fallback";
import { postgresEventIds } from "../store/postgres/event-ids";
import { buildSweeper } from "../sweeper/start";
import { systemClock } from "../util/clock";
import { createLogger, type Logger } from "../util/log";
import { redactionKey, redactorFor } from "../util/redact";
import type { Command } from "./args";
import { openExisting, OperatorError, UsageError } from "./operator";
import { openPostgresExisting } from "./postgres-operator";

type JobView = ReturnType<Jobs["list"]>[number];

/** What a job that exists only with some config needs (sweeper/start.ts). */
const JOB_NEEDS: Record<string, string> = {
  stale: " (stale and fallback run with [fallback] enabled = true and a [fallback.sms] url)",
  fallback: " (stale and fallback run with [fallback] enabled = true and a [fallback.sms] url)",
  alerts: " (alerts runs with an [alerts] url)",
};

/** The jobs of one engine, as this command sees them. */
interface JobsHere {
  names(): string[];
  list(): Promise<JobView[]>;
  run(name: string): Promise<RunResult>;
  close(): Promise<void>;
}

export async function runJobsCommand(config: Config, command: Extract<Command, { kind: "jobs" }>): Promise<number> {
  const json = command.json;
  // Log lines go to stderr: stdout is the answer.
  const log = createLogger(config.log.level, (line) => process.stderr.write(line + "\n"), redactorFor(redactionKey(config.log, config.admin.token)));
  const instance = `${hostname()}-cli-${process.pid}`;
  const jobs = config.storage.engine === "postgres" ? await postgresJobsHere(config, log, instance) : sqliteJobsHere(config, log, instance);
  try {
    if (command.action === "list") {
      const list = await jobs.list();
      const line = (j: JobView) =>
        `${j.name.padEnd(10)} ${j.schedule.padEnd(16)} next ${j.next_run ?? "-"}  last ${j.last_finished_at ?? "never"}${j.last_error ? `  ${j.last_error}` : j.last_result ? `  ${JSON.stringify(j.last_result)}` : ""}`;
      process.stdout.write((json ? JSON.stringify(list) : list.map(line).join("\n")) + "\n");
      return 0;
    }
    if (!jobs.names().includes(command.name)) throw new UsageError(`jobs run: no job named "${command.name}" with this config; the jobs are ${jobs.names().join(", ")}${JOB_NEEDS[command.name] ?? ""}`);
    const run = await jobs.run(command.name);
    if (!run.ran) throw new OperatorError(`jobs run ${command.name}: not run: ${run.reason}`);
    process.stdout.write((json ? JSON.stringify(run) : `jobs run ${command.name}: ${JSON.stringify(run.result)} in ${run.duration_ms} ms`) + "\n");
    return 0;
  } finally {
    await jobs.close();
  }
}

function sqliteJobsHere(config: Config, log: Logger, instance: string): JobsHere {
  const db = openExisting(config.storage.path, config.storage.synchronous);
  const { jobs } = buildSweeper(db, config, systemClock, log, instance);
  return { names: () => jobs.names(), list: async () => jobs.list(), run: (name) => jobs.run(name), close: async () => db.close() };
}

async function postgresJobsHere(config: Config, log: Logger, instance: string): Promise<JobsHere> {
  const sql = await openPostgresExisting(config, "jobs");
  const fallback = new PostgresFallback(sql, config, await postgresEventIds(sql), systemClock, log, instance);
  const defs = postgresJobs(sql, config, systemClock, fallback);
  const cluster = new ClusterJobs(defs, scheduledRuns(sql), instance, systemClock, log);
  // The list GET /v1/jobs answers on any instance (admin/postgres-ops.ts).
  const admin = postgresAdminOps(sql, () => cluster, () => config.hooks, async () => [], () => null);
  return {
    names: () => defs.map((d) => d.name),
    list: async () => ((await admin({ op: "jobs" })).body as { jobs: JobView[] }).jobs,
    run: (name) => cluster.runNow(name), // never throws: a failure is its answer
    close: () => sql.close(),
  };
}
