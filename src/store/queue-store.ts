/** The inbox as a job queue: claim with a lease token, finalize only while holding it. */
import type { Database } from "bun:sqlite";

import type { InboxJob } from "../domain/inbox";

export function queueStore(db: Database) {
  // One statement: pick pending rows (or rows whose lease expired), lease them, count the attempt.
  // Two arms instead of an OR, so both use the (state, id) index instead of scanning the inbox.
  const claim = db.prepare<Omit<InboxJob, "body" | "progress">, [string, number, number, number]>(
    `UPDATE inbox SET state = 'processing', attempts = attempts + 1, lease_token = ?1, lease_until = ?2
     WHERE id IN (SELECT id FROM (SELECT id FROM inbox WHERE state = 'pending' ORDER BY id LIMIT ?4)
                  UNION ALL
                  -- expired leases: a crashed attempt's jobs go back in the queue
                  SELECT id FROM (SELECT id FROM inbox WHERE state = 'processing' AND lease_until < ?3 ORDER BY id LIMIT ?4)
                  ORDER BY id LIMIT ?4)
     RETURNING id, parseable, received_at, attempts, last_error`,
  );
  const bodiesOf = db.prepare<{ inbox_id: number; body: Uint8Array; progress: number }, [string]>(
    `SELECT b.inbox_id, b.body, coalesce(p.progress, 0) progress FROM inbox_bodies b LEFT JOIN job_progress p USING (inbox_id)
     WHERE b.inbox_id IN (SELECT value FROM json_each(?1))`,
  );
  const holds = db.prepare<{ id: number }, [number, string]>("SELECT id FROM inbox WHERE id = ? AND lease_token = ? AND state = 'processing'");
  const finishRow = db.prepare<unknown, [number, number, string]>(
    "UPDATE inbox SET state = 'done', lease_token = NULL, lease_until = NULL, last_error = NULL, processed_at = ? WHERE id = ? AND lease_token = ?",
  );
  const fail = db.prepare<unknown, [string, string, number, number, string]>(
    "UPDATE inbox SET state = ?, last_error = ?, lease_token = NULL, lease_until = NULL, processed_at = ? WHERE id = ? AND lease_token = ?",
  );
  const release = db.prepare<unknown, [number, string]>(
    "UPDATE inbox SET state = 'pending', attempts = attempts - 1, lease_token = NULL, lease_until = NULL WHERE id = ? AND lease_token = ?",
  );
  const extend = db.prepare<unknown, [number, number, string]>("UPDATE inbox SET lease_until = ? WHERE id = ? AND lease_token = ?");
  const progressOf = db.prepare<{ progress: number }, [number]>("SELECT progress FROM job_progress WHERE inbox_id = ?");
  const saveProgress = db.prepare<unknown, [number, number]>(
    "INSERT INTO job_progress (inbox_id, progress) VALUES (?1, ?2) ON CONFLICT (inbox_id) DO UPDATE SET progress = excluded.progress",
  );
  const clearProgress = db.prepare<unknown, [number]>("DELETE FROM job_progress WHERE inbox_id = ?");
  // The oldest job not yet done, waiting or in progress (a huge job stays leased across
  // passes). Rows come in id order: one index probe per state.
  const oldest = db.prepare<{ received_at: number | null }, []>(
    `SELECT min(received_at) AS received_at FROM (
       SELECT received_at FROM (SELECT received_at FROM inbox WHERE state = 'pending' ORDER BY id LIMIT 1)
       UNION ALL
       SELECT received_at FROM (SELECT received_at FROM inbox WHERE state = 'processing' ORDER BY id LIMIT 1))`,
  );
  const revive = db.prepare<unknown, [number]>("UPDATE inbox SET state = 'pending', attempts = 0, last_error = NULL WHERE id = ? AND state = 'dead'");
  const recover = db.prepare<unknown, [string]>(
    "UPDATE inbox SET state = 'pending', lease_token = NULL, lease_until = NULL WHERE state = 'processing' AND substr(lease_token, 1, length(?1)) = ?1",
  );
  const state = db.prepare<{ state: string }, [number]>("SELECT state FROM inbox WHERE id = ?");
  const reviveAll = db.prepare("UPDATE inbox SET state = 'pending', attempts = 0, last_error = NULL WHERE state = 'dead'");

  return {
    claim(token: string, leaseUntil: number, now: number, limit: number): InboxJob[] {
      const jobs = db.transaction(() => claim.all(token, leaseUntil, now, limit)).immediate();
      if (jobs.length === 0) return [];
      const stored = new Map(bodiesOf.all(JSON.stringify(jobs.map((j) => j.id))).map((r) => [r.inbox_id, r]));
      return jobs.map((job) => ({ ...job, body: stored.get(job.id)?.body ?? new Uint8Array(0), progress: stored.get(job.id)?.progress ?? 0 }));
    },
    holds: (id: number, token: string) => holds.get(id, token) !== null,
    finish: (id: number, token: string, now: number) => finishRow.run(now, id, token).changes === 1,
    /** state "pending" retries later (the attempt is already counted); "dead" stops. */
    fail: (id: number, token: string, state: "pending" | "dead", error: string, now: number) => fail.run(state, error, now, id, token).changes === 1,
    /** Gives a claimed job back untouched: its attempt is not counted. */
    release: (id: number, token: string) => release.run(id, token).changes === 1,
    /** Keeps a job leased for longer (a job processed over many passes). */
    extend: (id: number, token: string, leaseUntil: number) => extend.run(leaseUntil, id, token).changes === 1,
    /** How many of the job's events earlier passes stored (0 for a fresh job). */
    progress: (id: number) => progressOf.get(id)?.progress ?? 0,
    saveProgress: (id: number, progress: number) => void saveProgress.run(id, progress),
    clearProgress: (id: number) => void clearProgress.run(id),
    /** How long the oldest job not yet done has waited (0 when none waits). */
    backlogAgeMs: (now: number) => {
      const at = oldest.get()?.received_at ?? null;
      return at === null ? 0 : Math.max(0, now - at);
    },
    /** Returns jobs leased by an earlier run of this instance to the queue (their attempt stays counted). */
    recoverLeases: (instance: string) => recover.run(`${instance}:`).changes,
    /** Makes dead inbox rows processable again (all, or one). Returns how many. */
    revive: (id: number | null) => (id === null ? reviveAll.run().changes : revive.run(id).changes),
    state: (id: number) => state.get(id)?.state ?? null,
  };
}
