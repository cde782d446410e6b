/**
 * GET /v1/stats (and `wa-webhookd stats`): queues and their oldest age, worker lag,
 * events by type, duplicates, per-hook deliveries, fallback counts, the delivery
 * funnel and billable messages per pricing category and day. GET /v1/templates.
 */
import type { Database } from "bun:sqlite";
import { queueStore } from "../store/queue-store";
import { reportStore } from "../store/report-store";
import { isoOrNull } from "../util/time";
import { ok, type AdminAnswer } from "./answers";
import type { StatsFigures } from "../domain/stats";
import { orphanedCounts } from "../store/requeue-store";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NO_OPEN = { pending: 0, delivering: 0, dead: 0, disabled: 0 };

/** The SQLite engine's figures. */
export function sqliteStatsFigures(db: Database, hookNames: readonly string[], now: number): StatsFigures {
  const r = reportStore(db);
  const delivered = r.deliveredSince(now - DAY);
  return {
    inbox: r.inbox(),
    lagMs: queueStore(db).backlogAgeMs(now),
    hooks: hookNames.map((name) => ({ name, deliveredLastDay: delivered[name] ?? 0, open: r.openDeliveries(name), oldestOpenAt: r.oldestOpenDeliveryAt(name) })),
    orphaned: orphanedCounts(db, hookNames),
    eventsLastHour: r.eventsByType(now - HOUR),
    eventsLastDay: r.eventsByType(now - DAY),
    duplicatesLastDay: r.duplicatesSince(now - DAY),
    statusesLastDay: r.statuses(now - DAY),
    failedByCode: r.failedByCode(now - DAY),
    billable: r.billable(now - 7 * DAY),
    tracked: r.tracked(),
    sms: r.sms(),
  };
}

export const stats = (db: Database, hookNames: readonly string[], now: number): AdminAnswer => statsAnswer(sqliteStatsFigures(db, hookNames, now), now);

/** GET /v1/stats's answer from an engine's figures. */
export function statsAnswer(f: StatsFigures, now: number): AdminAnswer {
  const hooks = Object.fromEntries(
    f.hooks.map((h) => [h.name, { delivered_last_day: h.deliveredLastDay, ...NO_OPEN, ...h.open, oldest_open_age_ms: h.oldestOpenAt === null ? 0 : now - h.oldestOpenAt }]),
  );
  const statuses = f.statusesLastDay;
  return ok({
    at: new Date(now).toISOString(),
    inbox: { pending: 0, processing: 0, dead: 0, ...f.inbox },
    // How long the oldest webhook not yet processed has waited (the worker loop paces itself by the same figure).
    worker_lag_ms: f.lagMs,
    deliveries: { hooks, orphaned: Object.fromEntries(Object.entries(f.orphaned).map(([hook, open]) => [hook, { ...NO_OPEN, ...open }])) },
    events: { last_hour: f.eventsLastHour, last_day: f.eventsLastDay },
    duplicates_last_day: f.duplicatesLastDay,
    funnel_last_day: {
      sent: statuses.sent ?? 0,
      delivered: statuses.delivered ?? 0,
      read: statuses.read ?? 0,
      // Voice messages: Meta's `played` follows `read`.
      played: statuses.played ?? 0,
      failed: statuses.failed ?? 0,
      failed_by_code: f.failedByCode.map((x) => ({ code: x.code, messages: x.n })),
    },
    billable_by_day: f.billable.map((b) => ({ day: b.day, category: b.category, messages: b.n })),
    fallback: { tracked: f.tracked, sms: f.sms },
  });
}

export function templates(db: Database): AdminAnswer {
  const r = reportStore(db);
  const rows = r.templates();
  return templatesAnswer(rows, new Map(rows.map((t) => [t.template_id, r.templateHistory(t.template_id)])));
}

type TemplateRow = ReturnType<ReturnType<typeof reportStore>["templates"]>[number];
type NoticeRow = ReturnType<ReturnType<typeof reportStore>["templateHistory"]>[number];

/** GET /v1/templates's answer: each template (newest change first) with its notices in arrival order. */
export function templatesAnswer(rows: readonly TemplateRow[], history: ReadonlyMap<string, readonly NoticeRow[]>): AdminAnswer {
  return ok({
    data: rows.map((t) => ({
      ...t,
      updated_at: isoOrNull(t.updated_at),
      history: (history.get(t.template_id) ?? []).map((h) => ({ attribute: h.attribute, value: h.value, at: isoOrNull(h.at), applied: h.applied === 1, received_at: isoOrNull(h.received_at) })),
    })),
    next_cursor: null,
  });
}
