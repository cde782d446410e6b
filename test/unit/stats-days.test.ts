/**
 * GET /v1/stats/days on both engines, fed the same webhooks over three UTC days through
 * the real pipeline (processing, dispatch to real hooks, SMS fallback to a real
 * provider): the same answer from SQLite and PostgreSQL, true to what each day held,
 * every day present; on SQLite every read is an index range, never a table scan.
 */
import { expect, test } from "bun:test";
import { DAY_MS } from "../../src/domain/day-stats";
import { dayRange } from "../../src/admin/stats-days";
import { DAY_REPORT_SQL } from "../../src/store/day-report-store";
import type { z } from "zod";
import type { StatsDays } from "../../src/admin/responses";
import { bothEngines, otp } from "../support/both-engines";
import { fixtureCorpus, pipeline } from "../support/pipeline";
import { statusesPayload, textMessage } from "../support/webhooks";

type Day = z.infer<typeof StatsDays>["days"][number];

const today = () => Math.floor(Date.now() / DAY_MS) * DAY_MS;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
const QUIET_DAY = { events: {}, statuses: { sent: 0, delivered: 0, read: 0, failed: 0 }, failed_by_code: [], billable: {}, sms: { sent: 0, failed: 0, unknown: 0, cancelled: 0 } };

test("dayRange: the days asked for, the last one today (UTC), whatever the hour", () => {
  const day = Date.parse("2026-12-04T00:00:00Z") / DAY_MS;
  expect(dayRange(Date.parse("2026-12-04T00:00:00Z"), 3)).toEqual([day - 2, day - 1, day]);
  expect(dayRange(Date.parse("2026-12-04T23:59:59.999Z"), 1)).toEqual([day]);
});

test("three days of traffic: both engines answer the same, each day what it held, a quiet day present with zeros", async () => {
  const start = today() - 2 * DAY_MS + 10 * 3_600_000;
  const e = await bothEngines(start);
  // Two days ago: the fixture corpus (crm's deliveries die a second later), and an OTP that falls back to SMS.
  await e.both.post(fixtureCorpus());
  await e.both.dispatch();
  e.clock.advance(1_000);
  await e.both.dispatch();
  await e.both.register([otp("wamid.SMSOK1")]);
  e.clock.advance(61_000);
  await e.both.job("stale");
  await e.both.job("fallback");
  // Today: more messages and a failure; crm's new deliveries are still being retried; an SMS the provider refuses.
  e.clock.t = today() + 60_000;
  const failed = { id: "wamid.TODAY-F", status: "failed", timestamp: String(Math.floor(e.clock.t / 1000)), recipient_id: "16505551234", errors: [{ code: 131026, title: "Message undeliverable" }] };
  await e.both.post([textMessage("wamid.TODAY1"), textMessage("wamid.TODAY2"), statusesPayload(failed)]);
  await e.both.dispatch();
  await e.both.register([otp("wamid.SMSFAIL1")]);
  e.clock.advance(61_000);
  await e.both.job("stale");
  await e.both.job("fallback");

  const answer = await e.ask({ op: "stats-days", days: 3 });
  expect(answer.pg.status).toBe(200);
  expect(answer.pg).toEqual(answer.lite);
  const days = (answer.pg.body as { days: Day[] }).days;
  expect(days.map((d) => d.day)).toEqual([iso(today() - 2 * DAY_MS), iso(today() - DAY_MS), iso(today())]);
  const [first, quiet, last] = days as [Day, Day, Day];
  expect(quiet).toEqual({ day: iso(today() - DAY_MS), ...QUIET_DAY, deliveries: { app: { delivered: 0, dead: 0 }, crm: { delivered: 0, dead: 0 } } });

  // Two days ago: every event stored that day, its statuses, failures and billable messages, app's deliveries done and crm's dead.
  const [from, to] = [today() - 2 * DAY_MS, today() - DAY_MS];
  const count = (sql: string) => e.lite.count(sql, from, to);
  // The per-minute counts count events from webhooks (as /v1/stats does), not those the sweeper raises.
  expect(sum(first.events)).toBe(count("SELECT count(*) n FROM events WHERE inbox_id IS NOT NULL AND received_at >= ? AND received_at < ?"));
  expect(first.events["message.received"]).toBeGreaterThan(0);
  expect(sum(first.statuses)).toBe(count("SELECT count(*) n FROM events WHERE type = 'message.status' AND received_at >= ? AND received_at < ?"));
  expect(first.statuses.failed).toBeGreaterThan(0);
  expect(first.failed_by_code.reduce((n, f) => n + f.messages, 0)).toBe(first.statuses.failed!);
  expect(sum(first.billable)).toBeGreaterThan(0);
  expect(first.deliveries).toEqual({
    app: { delivered: count("SELECT count(*) n FROM deliveries WHERE hook = 'app' AND state = 'done' AND updated_at >= ? AND updated_at < ?"), dead: 0 },
    crm: { delivered: 0, dead: count("SELECT count(*) n FROM deliveries WHERE hook = 'crm' AND state = 'dead' AND updated_at >= ? AND updated_at < ?") },
  });
  expect(first.deliveries.app!.delivered).toBeGreaterThan(0);
  expect(first.deliveries.crm!.dead).toBeGreaterThan(0);
  expect(first.sms).toEqual({ sent: 1, failed: 0, unknown: 0, cancelled: 0 });

  // Today: what came today only.
  expect(last.events["message.received"]).toBe(2);
  expect(last.statuses).toEqual({ sent: 0, delivered: 0, read: 0, failed: 1 });
  expect(last.failed_by_code).toEqual([{ code: 131026, messages: 1 }]);
  // app got today's three events and the sweeper's events of two days ago, which waited for today's dispatch.
  const doneToday = e.lite.count("SELECT count(*) n FROM deliveries WHERE hook = 'app' AND state = 'done' AND updated_at >= ?", today());
  expect(doneToday).toBeGreaterThan(3);
  expect(last.deliveries).toEqual({ app: { delivered: doneToday, dead: 0 }, crm: { delivered: 0, dead: 0 } });
  expect(last.sms).toEqual({ sent: 0, failed: 1, unknown: 0, cancelled: 0 });

  // A month: 31 days, the last today; a hook no longer run shows on the days it had deliveries done or dead.
  const month = await e.ask({ op: "stats-days", days: 31 }, [e.APP]);
  expect(month.pg).toEqual(month.lite);
  const all = (month.pg.body as { days: Day[] }).days;
  expect(all).toHaveLength(31);
  expect(all.at(-1)!.day).toBe(iso(today()));
  expect(all.at(-3)!.deliveries.crm).toEqual(first.deliveries.crm);
  expect(all.at(-1)!.deliveries).toEqual({ app: { delivered: doneToday, dead: 0 } });
  expect(all[0]).toEqual({ day: iso(today() - 30 * DAY_MS), ...QUIET_DAY, deliveries: { app: { delivered: 0, dead: 0 } } });
});

test("on SQLite every read of the daily figures is an index range (the writer thread never scans a table)", () => {
  const { db } = pipeline();
  for (const sql of Object.values(DAY_REPORT_SQL)) {
    const plan = db.query<{ detail: string }, [string, number]>(`EXPLAIN QUERY PLAN ${sql}`).all('["a"]', 0).map((r) => r.detail);
    expect({ sql, scans: plan.filter((d) => /^SCAN (stats_by_minute|deliveries|fallback_sends)\b/.test(d)) }).toEqual({ sql, scans: [] });
  }
});
