/**
 * Scheduled jobs run from timers in the writer thread, where an exception nobody
 * catches ends the thread (and with it processing and delivery). A run must answer,
 * never throw, even when it cannot write its lease.
 */
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { pipeline } from "../support/pipeline";

test("a run whose lease cannot be written (the write lock held elsewhere) is answered, not thrown; the next run works", async () => {
  const p = pipeline([], { retention: "1d" });
  p.db.run("PRAGMA busy_timeout = 50");
  const other = new Database(p.path);
  other.run("BEGIN IMMEDIATE");
  expect(await p.sweeper.jobs.run("retention")).toEqual({ ran: false, reason: "not started: database is locked" });
  other.run("ROLLBACK");
  other.close();
  expect(await p.sweeper.jobs.run("retention")).toMatchObject({ ran: true });
  expect(p.db.query("SELECT runs, lease_token FROM job_runs WHERE name = 'retention'").get()).toEqual({ runs: 1, lease_token: null });
});
