/**
 * `wa-webhookd tail --config F [--type G] [--json]`: events as they are stored, one
 * line each, from the database itself (read-only, so it works beside the running
 * daemon and without it). The same query as GET /v1/events/stream (admin/events.ts).
 */
import type { OperatorConfig } from "../config/schema";
import { eventFilter, eventsAfter } from "../admin/events";
import type { EventEnvelope } from "../events/envelope";
import { eventSummary, summaryId } from "../events/summary";
import { openExisting, UsageError } from "./operator";

const POLL_MS = 250;
const BATCH = 500;

export async function runTail(config: OperatorConfig, type: string | null, json: boolean): Promise<number> {
  const filter = eventFilter({ type: type ?? undefined });
  if (typeof filter === "string") throw new UsageError(`--${filter}`);
  const db = openExisting(config.storage.path, config.storage.synchronous);
  let stopped = false;
  const stop = () => (stopped = true);
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    let after: string | null = null;
    while (!stopped) {
      const batch = eventsAfter(db, filter, after, BATCH);
      for (const event of batch.events as EventEnvelope[]) process.stdout.write((json ? JSON.stringify(event) : line(event)) + "\n");
      after = batch.last;
      if (batch.events.length < BATCH) await Bun.sleep(POLL_MS);
    }
    return 0;
  } finally {
    db.close();
  }
}

/** time, type, what it is about, a short summary (events/summary.ts: no personal data). */
export function line(e: EventEnvelope): string {
  return [e.received_at, e.type.padEnd(20), summaryId(e), eventSummary(e)].join("  ");
}
