/**
 * Scheduled jobs once across the instances (migrations/postgres/0004): the first
 * instance to insert (job, fire time) runs it. No leader to elect or lose, no session
 * state (an advisory lock held for a run would die with its connection, silently, and
 * does not survive a transaction-mode pooler); the cost is that a fire whose instance
 * dies mid-run is not run again until the next one (each job is idempotent: the next
 * run does what this one did not).
 */
import type { SQL } from "bun";

export interface ScheduledRun {
  name: string;
  fire_at: number;
  instance: string;
  started_at: number;
  finished_at: number | null;
  result: string | null;
  error: string | null;
}

export function scheduledRuns(sql: SQL) {
  return {
    /** True when this instance got the fire (it runs it); false: another one has it. */
    claim: async (name: string, fireAt: number, instance: string, now: number) =>
      (await sql`INSERT INTO scheduled_runs (name, fire_at, instance, started_at) VALUES (${name}, ${fireAt}, ${instance}, ${now}) ON CONFLICT DO NOTHING`).count === 1,
    finish: async (name: string, fireAt: number, now: number, outcome: { result: unknown } | { error: string }) =>
      void (await sql`
        UPDATE scheduled_runs SET finished_at = ${now}, result = ${"result" in outcome ? JSON.stringify(outcome.result) : null}, error = ${"error" in outcome ? outcome.error : null}
        WHERE name = ${name} AND fire_at = ${fireAt}`),
    /** The latest runs of each job, newest first. */
    latest: async (perJob: number): Promise<ScheduledRun[]> =>
      [
        ...(await sql`
          SELECT name, fire_at::float8 AS fire_at, instance, started_at::float8 AS started_at, finished_at::float8 AS finished_at, result, error
          FROM (SELECT *, row_number() OVER (PARTITION BY name ORDER BY fire_at DESC) AS n FROM scheduled_runs) r
          WHERE n <= ${perJob} ORDER BY name, fire_at DESC`),
      ] as ScheduledRun[],
    /** Runs older than `before` go (the retention job keeps this table short too). */
    prune: async (before: number) => (await sql`DELETE FROM scheduled_runs WHERE fire_at < ${before}`).count,
  };
}
