/**
 * The numbers behind GET /v1/stats/days on SQLite, per UTC day: sums of the per-minute
 * counts (primary key ranges), dead deliveries per hook (the (hook, state) prefix of
 * deliveries_due, one hook at a time: a scan of every delivery would hold the writer
 * thread) and SMS outcomes (the state prefix of fallback_due).
 */
import type { Database } from "bun:sqlite";
import { DAILY_KINDS, DAY_MS, SMS_OUTCOMES, type DailyKind, type DaysFigures } from "../domain/day-stats";
import { minuteOf } from "./stats-store";

const MINUTES_A_DAY = DAY_MS / 60_000;

/** The statements, apart so that a test can check each one's query plan. */
export const DAY_REPORT_SQL = {
  counts: `SELECT kind, minute / ${MINUTES_A_DAY} day, key, sum(n) n FROM stats_by_minute
           WHERE kind IN (SELECT value FROM json_each(?1)) AND minute >= ?2 GROUP BY 1, 2, 3`,
  dead: `SELECT updated_at / ${DAY_MS} day, count(*) n FROM deliveries WHERE hook = ?1 AND state = 'dead' AND updated_at >= ?2 GROUP BY 1`,
  sms: `SELECT updated_at / ${DAY_MS} day, state key, count(*) n FROM fallback_sends
        WHERE state IN (SELECT value FROM json_each(?1)) AND updated_at >= ?2 GROUP BY 1, 2`,
};

export function dayReportStore(db: Database) {
  const counts = db.prepare<{ kind: DailyKind; day: number; key: string; n: number }, [string, number]>(DAY_REPORT_SQL.counts);
  const dead = db.prepare<{ day: number; n: number }, [string, number]>(DAY_REPORT_SQL.dead);
  const sms = db.prepare<{ day: number; key: string; n: number }, [string, number]>(DAY_REPORT_SQL.sms);
  return {
    /** Everything since `sinceMs` (a day's start), dead deliveries of the hooks named (those with deliveries). */
    since(sinceMs: number, hooks: readonly string[]): DaysFigures {
      return {
        counts: counts.all(JSON.stringify(DAILY_KINDS), minuteOf(sinceMs)),
        dead: hooks.flatMap((hook) => dead.all(hook, sinceMs).map((r) => ({ ...r, key: hook }))),
        sms: sms.all(JSON.stringify(SMS_OUTCOMES), sinceMs),
      };
    },
  };
}
