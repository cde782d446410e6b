/** Scheduled jobs' leases and last results (migrations/0006 job_runs): one run of a job at a time, across processes. */
import type { Database } from "bun:sqlite";

export interface JobRunRow {
  name: string;
  lease_until: number | null;
  last_started_at: number | null;
  last_finished_at: number | null;
  last_result: string | null;
  last_error: string | null;
  runs: number;
  failures: number;
  held_since: number | null;
}

export function jobStore(db: Database) {
  const acquire = db.prepare<{ name: string }, [string, string, number, number]>(
    `INSERT INTO job_runs (name, lease_token, lease_until, last_started_at) VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (name) DO UPDATE SET lease_token = ?2, lease_until = ?3, last_started_at = ?4
       WHERE job_runs.lease_token IS NULL OR job_runs.lease_until < ?4
     RETURNING name`,
  );
  const finish = db.prepare<unknown, [string, string, number, string | null, string | null, number]>(
    `UPDATE job_runs SET lease_token = NULL, lease_until = NULL, last_finished_at = ?3, last_result = ?4, last_error = ?5,
       runs = runs + 1, failures = failures + ?6 WHERE name = ?1 AND lease_token = ?2`,
  );
  const get = db.prepare<JobRunRow, [string]>("SELECT name, lease_until, last_started_at, last_finished_at, last_result, last_error, runs, failures, held_since FROM job_runs WHERE name = ?");
  const recover = db.prepare<unknown, [string]>("UPDATE job_runs SET lease_token = NULL, lease_until = NULL WHERE substr(lease_token, 1, length(?1)) = ?1");
  const hold = db.prepare<unknown, [string, number | null]>("UPDATE job_runs SET held_since = ?2 WHERE name = ?1");
  return {
    acquire: (name: string, token: string, until: number, now: number) => acquire.get(name, token, until, now) !== null,
    finish(name: string, token: string, now: number, result: unknown, error: string | null) {
      finish.run(name, token, now, result === undefined ? null : JSON.stringify(result), error, error ? 1 : 0);
    },
    get: (name: string) => get.get(name),
    setHeld: (name: string, since: number | null) => hold.run(name, since),
    /** Job leases an earlier, crashed run of this instance held: free again now. */
    recover: (instance: string) => recover.run(`${instance}:`).changes,
  };
}
export type JobStore = ReturnType<typeof jobStore>;
