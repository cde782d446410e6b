/**
 * The numbers behind GET /v1/stats/days on PostgreSQL, per UTC day, in the shapes of
 * SQLite's dayReportStore: the per-minute counts every instance adds to, dead deliveries
 * per hook and SMS outcomes. The dead and SMS counts go by the day they ended, through
 * migration 0009's indexes: only the days asked are read.
 */
import type { SQL } from "bun";
import { DAILY_KINDS, DAY_MS, SMS_OUTCOMES, type DailyKind, type DayCount, type DaysFigures } from "../../domain/day-stats";
import { minuteOf } from "../stats-store";

const MINUTES_A_DAY = DAY_MS / 60_000;

export function postgresDayReport(sql: SQL) {
  return {
    /** Everything since `sinceMs` (a day's start). */
    async since(sinceMs: number): Promise<DaysFigures> {
      const [counts, dead, sms] = await Promise.all([
        sql`SELECT kind, (minute / ${MINUTES_A_DAY}::int8)::float8 AS day, key, sum(n)::float8 AS n FROM stats_by_minute
            WHERE kind = ANY(${sql.array([...DAILY_KINDS], "TEXT")}::text[]) AND minute >= ${minuteOf(sinceMs)} GROUP BY 1, 2, 3`,
        sql`SELECT (updated_at / ${DAY_MS}::int8)::float8 AS day, hook AS key, count(*)::float8 AS n FROM deliveries
            WHERE state = 'dead' AND updated_at >= ${sinceMs} GROUP BY 1, 2`,
        sql`SELECT (updated_at / ${DAY_MS}::int8)::float8 AS day, state AS key, count(*)::float8 AS n FROM fallback_sends
            WHERE state = ANY(${sql.array([...SMS_OUTCOMES], "TEXT")}::text[]) AND updated_at >= ${sinceMs} GROUP BY 1, 2`,
      ]);
      return { counts: [...counts] as (DayCount & { kind: DailyKind })[], dead: [...dead] as DayCount[], sms: [...sms] as DayCount[] };
    },
  };
}
