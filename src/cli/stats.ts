/**
 * `wa-webhookd stats --config F [--json]`: the figures of GET /v1/stats (one
 * implementation: admin/stats.ts) read from the database (the SQLite engine's file, or
 * the PostgreSQL database every instance shares), as a terminal table.
 */
import { escapeControls } from "../util/terminal";
import type { OperatorConfig } from "../config/schema";
import { stats, statsAnswer } from "../admin/stats";
import type { z } from "zod";
import type { Stats } from "../admin/responses";
import { daemonHooksStore } from "../store/daemon-hooks-store";
import { isStorageFailure, toStorageError } from "../store/errors";
import { postgresAdminQueries } from "../store/postgres/admin-queries";
import { openExisting } from "./operator";
import { openPostgresExisting } from "./postgres-operator";

type StatsBody = z.infer<typeof Stats>;

export async function runStats(config: OperatorConfig, json: boolean): Promise<number> {
  const body = config.storage.engine === "postgres" ? await postgresStats(config) : sqliteStats(config);
  process.stdout.write(json ? JSON.stringify(body) + "\n" : table(body));
  return 0;
}

function sqliteStats(config: OperatorConfig): StatsBody {
  const db = openExisting(config.storage.path, config.storage.synchronous);
  try {
    // The hooks the daemon runs (its file may differ from --config): the others' open deliveries are orphaned.
    return stats(db, daemonHooksStore(db).list().map((h) => h.name), Date.now()).body as StatsBody;
  } finally {
    db.close();
  }
}

/** The instances record no hooks in the database: --config's (the instances' file) are the ones run. */
async function postgresStats(config: OperatorConfig): Promise<StatsBody> {
  const sql = await openPostgresExisting(config, "stats");
  try {
    const now = Date.now();
    return statsAnswer(await postgresAdminQueries(sql).statsFigures(config.hooks.map((h) => h.name), now), now).body as StatsBody;
  } catch (err) {
    throw isStorageFailure(err) ? toStorageError(err) : err;
  } finally {
    await sql.close();
  }
}

function table(s: StatsBody): string {
  const rows: [string, string][] = [
    ["inbox pending / processing / dead", `${s.inbox.pending ?? 0} / ${s.inbox.processing ?? 0} / ${s.inbox.dead ?? 0}`],
    ["worker lag", `${(s.worker_lag_ms / 1000).toFixed(1)} s`],
    ...Object.entries(s.deliveries.hooks).map(([hook, h]): [string, string] => [
      `hook ${hook}`,
      `${h.delivered_last_day} delivered (24 h), ${h.pending} pending, ${h.delivering} delivering, ${h.dead} dead, ${h.disabled} disabled, oldest open ${(h.oldest_open_age_ms / 1000).toFixed(0)} s`,
    ]),
    ...Object.entries(s.deliveries.orphaned).map(([hook, h]): [string, string] => [
      `hook ${hook} (no longer run)`,
      `${h.pending} pending, ${h.delivering} delivering, ${h.dead} dead, ${h.disabled} disabled: orphaned, see wa-webhookd orphans`,
    ]),
    ["events (1 h)", counts(s.events.last_hour)],
    ["events (24 h)", counts(s.events.last_day)],
    ["duplicates (24 h)", String(s.duplicates_last_day)],
    ["sent → delivered → read (24 h)", `${s.funnel_last_day.sent} → ${s.funnel_last_day.delivered} → ${s.funnel_last_day.read} (${s.funnel_last_day.played} played), ${s.funnel_last_day.failed} failed`],
    ["failed by code (24 h)", s.funnel_last_day.failed_by_code.map((f) => `${f.code ?? "?"}: ${f.messages}`).join(", ") || "-"],
    ["billable (7 days)", s.billable_by_day.map((b) => `${b.day} ${b.category ?? "?"}: ${b.messages}`).join(", ") || "-"],
    ["fallback tracked", counts(s.fallback.tracked)],
    ["fallback SMS", counts(s.fallback.sms)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  // Categories, codes, states and hook names come from stored data: never obeyed by the terminal.
  return `wa-webhookd stats at ${s.at}\n` + rows.map(([k, v]) => `  ${escapeControls(k.padEnd(width))}  ${escapeControls(v)}`).join("\n") + "\n";
}

const counts = (c: Record<string, number>) =>
  Object.entries(c)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(", ") || "-";
