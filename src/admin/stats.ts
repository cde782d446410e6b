/**
 * GET /v1/stats (and `wa-webhookd stats`): queues and their oldest age, worker lag,
 * events by type, duplicates, per-hook deliveries, fallback counts, the delivery
 * funnel and billable messages per pricing category and day. GET /v1/templates.
 */
import type { Database } from "bun:sqlite";
import { queueStore } from "../store/queue-store";
import { reportStore } from "../store/report-store";
import { isoOrNull } from "../util/time";
import { orphanedCounts } from "../worker/orphans";
import { ok, type AdminAnswer } from "./answers";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NO_OPEN = { pending: 0, delivering: 0, dead: 0, disabled: 0 };

export function stats(db: Database, hookNames: readonly string[], now: number): AdminAnswer {
  const r = reportStore(db);
  const delivered = r.deliveredSince(now - DAY);
  const hooks = Object.fromEntries(
    hookNames.map((name) => {
      const oldest = r.oldestOpenDeliveryAt(name);
      const open = { ...NO_OPEN, ...r.openDeliveries(name) };
      return [name, { delivered_last_day: delivered[name] ?? 0, ...open, oldest_open_age_ms: oldest === null ? 0 : now - oldest }];
    }),
  );
  const statuses = r.statuses(now - DAY);
  return ok({
    at: new Date(now).toISOString(),
    inbox: { pending: 0, processing: 0, dead: 0, ...r.inbox() },
    // How long the oldest webhook not yet processed has waited (the worker loop paces itself by the same figure).
    worker_lag_ms: queueStore(db).backlogAgeMs(now),
    deliveries: { hooks, orphaned: Object.fromEntries(Object.entries(orphanedCounts(db, hookNames)).map(([hook, open]) => [hook, { ...NO_OPEN, ...open }])) },
    events: { last_hour: r.eventsByType(now - HOUR), last_day: r.eventsByType(now - DAY) },
    duplicates_last_day: r.duplicatesSince(now - DAY),
    funnel_last_day: {
      sent: statuses.sent ?? 0,
      delivered: statuses.delivered ?? 0,
      read: statuses.read ?? 0,
      failed: statuses.failed ?? 0,
      failed_by_code: r.failedByCode(now - DAY).map((f) => ({ code: f.code, messages: f.n })),
    },
    billable_by_day: r.billable(now - 7 * DAY).map((b) => ({ day: b.day, category: b.category, messages: b.n })),
    fallback: { tracked: r.tracked(), sms: r.sms() },
  });
}

export function templates(db: Database): AdminAnswer {
  const r = reportStore(db);
  return ok({
    data: r.templates().map((t) => ({
      ...t,
      updated_at: isoOrNull(t.updated_at),
      history: r.templateHistory(t.template_id).map((h) => ({ attribute: h.attribute, value: h.value, at: isoOrNull(h.at), applied: h.applied === 1, received_at: isoOrNull(h.received_at) })),
    })),
    next_cursor: null,
  });
}
