/**
 * Values read at scrape time. `queueGauges` from the counts an engine read: SQLite's in
 * the writer thread (`storeGauges`), PostgreSQL's shared ones (cli/serve-postgres.ts);
 * `processGauges` in the request thread.
 */
import type { Database } from "bun:sqlite";
import { statSync } from "node:fs";
import { queueStore } from "../store/queue-store";
import { reportStore } from "../store/report-store";
import type { Gauge } from "./exposition";
import { OPEN_DELIVERY_STATES } from "../domain/delivery";
import { orphanedCounts } from "../store/requeue-store";

const INBOX_STATES = ["pending", "processing", "dead"] as const;
/** Tracked messages past their deadline with no proof of delivery and no SMS out yet (with those still `tracked`: `overdue`). */
const STALE_STATES = ["stale", "fallback_pending"];

/** The queues' depths as an engine counted them: deliveries not done by hook (run or not) and state. */
export interface QueueFigures {
  inbox: Record<string, number>;
  lagMs: number;
  open: Record<string, Record<string, number>>;
  tracked: Record<string, number>;
  /** Of `tracked.tracked`, those past their deadline: not swept yet, or held by the outage guard. */
  overdue: number;
  sms: Record<string, number>;
}

/** The queue gauges from an engine's counts; `hookNames`: the hooks this daemon runs (the others' deliveries are orphaned). */
export function queueGauges(f: QueueFigures, hookNames: readonly string[]): Gauge[] {
  const byState = (hooks: readonly string[]) => hooks.flatMap((hook) => OPEN_DELIVERY_STATES.map((state) => ({ labels: { hook, state }, value: f.open[hook]?.[state] ?? 0 })));
  return [
    { name: "wa_inbox_webhooks", help: "Webhooks in the inbox by state (done ones are not counted)", samples: INBOX_STATES.map((state) => ({ labels: { state }, value: f.inbox[state] ?? 0 })) },
    { name: "wa_worker_lag_seconds", help: "How long the oldest webhook not yet processed has waited (the inbox's oldest pending age)", samples: [{ value: f.lagMs / 1000 }] },
    { name: "wa_deliveries_open", help: "Deliveries not done, by hook and state; dead ones wait for a retry or replay", samples: byState(hookNames) },
    {
      name: "wa_deliveries_orphaned",
      help: "Deliveries not done of hooks the daemon no longer runs (removed or renamed), by hook and state: nothing sends them; cancel or move them",
      samples: byState(Object.keys(f.open).filter((hook) => !hookNames.includes(hook))),
    },
    { name: "wa_tracked_messages", help: "Outbound messages watched for SMS fallback and not done, by state", samples: Object.entries(f.tracked).map(([state, value]) => ({ labels: { state }, value })) },
    { name: "wa_stale_messages", help: "Tracked messages past their deadline with no proof of delivery and no SMS sent yet", samples: [{ value: f.overdue + STALE_STATES.reduce((n, s) => n + (f.tracked[s] ?? 0), 0) }] },
    { name: "wa_fallback_sms", help: "SMS fallback rows by state", samples: Object.entries(f.sms).map(([state, value]) => ({ labels: { state }, value })) },
  ];
}

/** SQLite's figures, read in the writer thread (index probes and trigger-kept counts). */
export function storeGauges(db: Database, hookNames: readonly string[], now: number): Gauge[] {
  const r = reportStore(db);
  const open = { ...orphanedCounts(db, hookNames), ...Object.fromEntries(hookNames.map((hook) => [hook, r.openDeliveries(hook)])) };
  return queueGauges({ inbox: r.inbox(), lagMs: queueStore(db).backlogAgeMs(now), open, tracked: r.tracked(), overdue: r.overdue(now), sms: r.sms() }, hookNames);
}

/** What the process itself reports, on any engine. */
export const buildGauges = (version: string, startedAt: number): Gauge[] => [
  { name: "wa_build_info", help: "The running version", samples: [{ labels: { version }, value: 1 }] },
  { name: "process_resident_memory_bytes", help: "Resident memory of the daemon", samples: [{ value: process.memoryUsage.rss() }] },
  { name: "process_start_time_seconds", help: "When the daemon started (unix seconds)", samples: [{ value: Math.floor(startedAt / 1000) }] },
];

const sizeOf = (path: string) => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

export function processGauges(databasePath: string, version: string, startedAt: number): Gauge[] {
  return [
    { name: "wa_database_bytes", help: "Size of the SQLite database file", samples: [{ value: sizeOf(databasePath) }] },
    { name: "wa_wal_bytes", help: "Size of the write-ahead log (folded into the database by the checkpoint thread)", samples: [{ value: sizeOf(`${databasePath}-wal`) }] },
    ...buildGauges(version, startedAt),
  ];
}
