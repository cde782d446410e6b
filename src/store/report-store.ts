/**
 * The numbers behind GET /v1/stats and the template list. Queue figures are counts
 * kept by triggers and index probes; traffic figures (events, duplicates, funnel,
 * billable, deliveries) are sums of the per-minute counts (stats-store.ts). Never a
 * scan of a table: the stats run on the writer thread, between commits.
 */
import type { Database } from "bun:sqlite";
import { statsStore } from "./stats-store";
import { billableByDay, failuresByCode } from "../domain/stats";

export function reportStore(db: Database) {
  // Counts kept by triggers and the open deliveries' age index (migration 0010): never a walk of a backlog.
  const inboxStates = db.prepare<{ state: string; n: number }, []>("SELECT state, n FROM inbox_counts WHERE n > 0");
  const openDeliveries = db.prepare<{ state: string; n: number }, [string]>("SELECT state, n FROM delivery_counts WHERE hook = ? AND n > 0");
  const openHooks = db.prepare<{ hook: string }, []>("SELECT DISTINCT hook FROM delivery_counts WHERE n > 0 ORDER BY hook");
  const oldestDelivery = db.prepare<{ at: number | null }, [string]>(
    "SELECT min(created_at) at FROM deliveries INDEXED BY deliveries_open_by_age WHERE hook = ? AND state IN ('pending', 'delivering')",
  );
  const tracked = db.prepare<{ state: string; n: number }, []>("SELECT state, n FROM tracked_counts WHERE n > 0");
  const sms = db.prepare<{ state: string; n: number }, []>("SELECT state, count(*) n FROM fallback_sends GROUP BY state");
  // Past their deadline, not swept yet or held by the outage guard: a range of the partial index.
  const overdue = db.prepare<{ n: number }, [number]>("SELECT count(*) n FROM tracked_messages INDEXED BY tracked_due WHERE state = 'tracked' AND deadline <= ?");
  const templates = db.prepare<{ template_id: string; name: string | null; language: string | null; status: string | null; quality: string | null; category: string | null; updated_at: number }, []>(
    "SELECT template_id, name, language, status, quality, category, updated_at FROM templates ORDER BY updated_at DESC",
  );
  const templateHistory = db.prepare<{ attribute: string; value: string | null; at: number | null; applied: number; received_at: number }, [string]>(
    "SELECT attribute, value, at, applied, received_at FROM state_history WHERE subject = 'template' AND subject_id = ? ORDER BY received_at, event_id",
  );
  const rows = <T extends { n: number }>(list: T[], key: (r: T) => string) => Object.fromEntries(list.map((r) => [key(r), r.n]));
  const counts = statsStore(db);

  return {
    inbox: () => rows(inboxStates.all(), (r) => r.state),
    openDeliveries: (hook: string) => rows(openDeliveries.all(hook), (r) => r.state),
    /** Hooks with open deliveries, configured or not. */
    hooksWithOpenDeliveries: () => openHooks.all().map((r) => r.hook),
    oldestOpenDeliveryAt: (hook: string) => oldestDelivery.get(hook)?.at ?? null,
    deliveredSince: (ms: number) => counts.since("delivered", ms),
    eventsByType: (ms: number) => counts.since("event", ms),
    duplicatesSince: (ms: number) => counts.since("duplicate", ms)[""] ?? 0,
    statuses: (ms: number) => counts.since("status", ms),
    failedByCode: (ms: number) => failuresByCode(counts.since("failed", ms)),
    billable: (ms: number) => billableByDay(counts.byDay("billable", ms)),
    tracked: () => rows(tracked.all(), (r) => r.state),
    sms: () => rows(sms.all(), (r) => r.state),
    /** Tracked messages whose deadline passed that no sweep has decided yet (the outage guard holding them, or the next sweep's). */
    overdue: (now: number) => overdue.get(now)!.n,
    templates: () => templates.all(),
    templateHistory: (id: string) => templateHistory.all(id),
  };
}
