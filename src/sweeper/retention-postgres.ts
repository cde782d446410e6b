/**
 * The `retention` job on the PostgreSQL engine: the same cut-offs and the same order as
 * on SQLite (sweeper/retention.ts), each batch its own short transaction
 * (store/postgres/retention-store.ts); space comes back through autovacuum, not here.
 */
import type { SQL } from "bun";
import { minuteOf } from "../store/stats-store";
import { postgresRetention, START, type Key, type WalkName } from "../store/postgres/retention-store";
import { scheduledRuns } from "../store/postgres/scheduled-runs";
import type { Clock } from "../util/clock";
import { eventIdFloor } from "../util/ids";
import { retentionCutoffs } from "./retention";

export function postgresRetentionJob(sql: SQL, retentionMs: number, batchSize: number, clock: Clock) {
  const store = postgresRetention(sql);
  const pageSize = batchSize * 4;
  const repeat = async (deleteBatch: () => Promise<number>) => {
    let total = 0;
    for (;;) {
      const n = await deleteBatch();
      total += n;
      if (n < batchSize) return total;
    }
  };
  const walk = async (name: WalkName, cutoff: number) => {
    let total = 0;
    let after: Key | null = START[name];
    while (after !== null) {
      const page = await store.walk(name, cutoff, after, pageSize);
      total += page.deleted;
      after = page.next;
    }
    return total;
  };
  return async (): Promise<Record<string, unknown>> => {
    const { cutoff, dedupCutoff, statsCutoff } = retentionCutoffs(clock.now(), retentionMs);
    const floor = eventIdFloor(cutoff);
    // Children before parents: deliveries, then events, then the inbox rows they came from.
    return {
      cutoff: new Date(cutoff).toISOString(),
      deliveries: await repeat(() => store.deliveries(floor, batchSize)),
      events: await repeat(() => store.events(floor, batchSize)),
      inbox: await walk("inbox", cutoff),
      dedup_keys: await walk("dedupKeys", dedupCutoff),
      outbound: await walk("outbound", cutoff),
      tracked: await walk("tracked", cutoff),
      inbound: await walk("inbound", cutoff),
      state_history: await walk("history", cutoff),
      alerts: await repeat(() => store.alerts(cutoff, batchSize)),
      stats_minutes: await store.statsBefore(minuteOf(statsCutoff)),
      scheduled_runs: await scheduledRuns(sql).prune(statsCutoff),
    };
  };
}
