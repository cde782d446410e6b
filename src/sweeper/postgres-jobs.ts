/**
 * The scheduled jobs on the PostgreSQL engine: one list for the instances' schedules,
 * GET /v1/jobs and `wa-webhookd jobs`, so that what runs, what is shown and what an
 * operator can run are the same jobs.
 */
import type { SQL } from "bun";
import { parseDuration } from "../config/duration";
import type { Config } from "../config/schema";
import type { Clock } from "../util/clock";
import type { ClusterJob } from "./cluster-jobs";
import type { PostgresFallback } from "./postgres-fallback";
import { postgresRetentionJob } from "./retention-postgres";

/** `fallback`: its `stale`, `fallback` and `alerts` jobs (those its settings turn on), before retention. */
export function postgresJobs(sql: SQL, config: Pick<Config, "storage" | "sweeper">, clock: Clock, fallback: Pick<PostgresFallback, "jobs">): ClusterJob[] {
  return [
    ...fallback.jobs,
    { name: "retention", schedule: config.sweeper.retention_schedule, run: postgresRetentionJob(sql, parseDuration(config.storage.retention)!, config.sweeper.batch_size, clock) },
  ];
}
