/** A job run that did nothing is logged at debug; one that did something says what, at info (issue 18, item 6). */
import { expect, test } from "bun:test";
import { Jobs } from "../../src/sweeper/jobs";
import { runReport } from "../../src/sweeper/run-report";
import { createLogger } from "../../src/util/log";
import { pipeline, TestClock } from "../support/pipeline";

test("each job's idle result is nothing to report", () => {
  expect(runReport("stale", { held: false, stale: 0, pending: 0, settled: 0 })).toBeNull();
  expect(runReport("fallback", { claimed: 0, sent: 0, failed: 0, unknown: 0, retrying: 0 })).toBeNull();
  expect(runReport("alerts", { claimed: 0, sent: 0, retrying: 0, dead: 0 })).toBeNull();
  const retention = { cutoff: "2026-10-24T12:00:00.000Z", deliveries: 0, events: 0, inbox: 0, dedup_keys: 0, outbound: 0, tracked: 0, inbound: 0, state_history: 0, alerts: 0, stats_minutes: 0, freed_pages: 0, free_pages_left: 12 };
  expect(runReport("retention", retention)).toBeNull();
  // Held: the sweep decided nothing (the hold itself is logged when it starts and ends).
  expect(runReport("stale", { held: true, total: 40, stale: 38 })).toBeNull();
  expect(runReport("some-new-job", { done: 0 })).toBeNull();
});

test("a run that did something says what, naming only what is not zero", () => {
  expect(runReport("stale", { held: false, stale: 3, pending: 2, settled: 1 })).toBe("3 messages past the deadline: 2 to SMS, 1 settled without one");
  expect(runReport("fallback", { claimed: 2, sent: 1, failed: 0, unknown: 0, retrying: 1 })).toBe("SMS 1 sent, 1 retrying");
  expect(runReport("alerts", { claimed: 1, sent: 0, retrying: 0, dead: 1 })).toBe("alerts 1 dead");
  const base = { cutoff: "2026-10-24T12:00:00.000Z", deliveries: 0, events: 0, inbox: 0, dedup_keys: 0, outbound: 0, tracked: 0, inbound: 0, state_history: 0, alerts: 0, stats_minutes: 0, freed_pages: 0, free_pages_left: 0 };
  expect(runReport("retention", { ...base, events: 120, inbox: 118, freed_pages: 40 })).toBe("deleted 120 events, 118 inbox; freed 40 pages");
  expect(runReport("retention", { ...base, freed_pages: 8 })).toBe("freed 8 pages");
  expect(runReport("some-new-job", { done: 2 })).toBe("did 2 done");
});

test("the log line of a run: debug when idle, info with what it did", async () => {
  const p = pipeline();
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("debug", (line) => lines.push(JSON.parse(line)));
  let sent = 0;
  const jobs = new Jobs(p.db, [{ name: "alerts", schedule: "0 0 * * * *", leaseMs: 60_000, run: async () => ({ claimed: sent, sent, retrying: 0, dead: 0 }) }], new TestClock(), log, "test");
  expect(await jobs.run("alerts")).toMatchObject({ ran: true });
  sent = 2;
  expect(await jobs.run("alerts")).toMatchObject({ ran: true });
  expect(lines).toEqual([
    expect.objectContaining({ level: "debug", msg: "job run", job: "alerts", sent: 0 }),
    expect.objectContaining({ level: "info", msg: "job run", job: "alerts", did: "alerts 2 sent", sent: 2 }),
  ]);
  expect(lines[0]).not.toHaveProperty("did");
});
