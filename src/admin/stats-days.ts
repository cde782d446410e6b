/**
 * GET /v1/stats/days: per UTC day, oldest first and ending today, every day present even
 * when nothing happened: events by type, statuses, failures by code, billable messages
 * by pricing category, deliveries done and dead per hook, SMS by outcome. Built here from
 * either engine's figures (domain/day-stats.ts), so both answer alike.
 */
import type { Database } from "bun:sqlite";
import { DAY_MS, type DayCount, type DailyKind, type DaysFigures } from "../domain/day-stats";
import { failuresByCode } from "../domain/stats";
import { dayReportStore } from "../store/day-report-store";
import { inspectStore } from "../store/inspect-store";
import { ok, type AdminAnswer } from "./answers";

/** Shown on every day, 0 when none: the funnel's steps and the SMS outcomes a console charts. */
const NO_STATUSES = { sent: 0, delivered: 0, read: 0, failed: 0 };
const NO_SMS = { sent: 0, failed: 0, unknown: 0, cancelled: 0 };
/** A billable status that named no pricing category (its per-minute key is ''). */
const NO_CATEGORY = "none";

/** The days asked for, as days since the epoch: `days` of them, the last one today (UTC). */
export function dayRange(now: number, days: number): number[] {
  const today = Math.floor(now / DAY_MS);
  return Array.from({ length: days }, (_, i) => today - days + 1 + i);
}

/** The SQLite engine's answer; `running`: the hooks the daemon runs. */
export function statsDays(db: Database, running: readonly string[], days: number, now: number): AdminAnswer {
  const range = dayRange(now, days);
  // Dead deliveries are counted hook by hook (an index range each), of every hook that has some.
  const figures = dayReportStore(db).since(range[0]! * DAY_MS, inspectStore(db).hooksWithDeliveries());
  return statsDaysAnswer(figures, range, running);
}

/** Rows as day → key → n. */
function byDay(rows: readonly DayCount[]): Map<number, Record<string, number>> {
  const days = new Map<number, Record<string, number>>();
  for (const r of rows) {
    const keys = days.get(r.day) ?? {};
    keys[r.key] = r.n;
    days.set(r.day, keys);
  }
  return days;
}

/** GET /v1/stats/days's answer for the days of `range` (dayRange), from an engine's figures. */
export function statsDaysAnswer(f: DaysFigures, range: readonly number[], running: readonly string[]): AdminAnswer {
  const kind = (k: DailyKind) => byDay(f.counts.filter((c) => c.kind === k));
  const [events, statuses, failed, billable, delivered] = [kind("event"), kind("status"), kind("failed"), kind("billable"), kind("delivered")];
  const [dead, sms] = [byDay(f.dead), byDay(f.sms)];
  return ok({
    days: range.map((day) => ({
      day: new Date(day * DAY_MS).toISOString().slice(0, 10),
      events: events.get(day) ?? {},
      statuses: { ...NO_STATUSES, ...statuses.get(day) },
      failed_by_code: failuresByCode(failed.get(day) ?? {}).map((x) => ({ code: x.code, messages: x.n })),
      billable: Object.fromEntries(Object.entries(billable.get(day) ?? {}).map(([category, n]) => [category === "" ? NO_CATEGORY : category, n])),
      deliveries: perHook(running, delivered.get(day) ?? {}, dead.get(day) ?? {}),
      sms: { ...NO_SMS, ...sms.get(day) },
    })),
  });
}

/** Every hook run (0 when idle), and any other hook that had deliveries done or dead that day. */
function perHook(running: readonly string[], delivered: Record<string, number>, dead: Record<string, number>) {
  const others = [...new Set([...Object.keys(delivered), ...Object.keys(dead)])].filter((h) => !running.includes(h)).sort();
  return Object.fromEntries([...running, ...others].map((hook) => [hook, { delivered: delivered[hook] ?? 0, dead: dead[hook] ?? 0 }]));
}
