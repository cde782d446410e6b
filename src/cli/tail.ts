/**
 * `wa-webhookd tail --config F [--type G] [--json]`: events as they are stored, one
 * line each, from the database itself (read-only, so it works beside the running
 * daemon and without it). The same query as GET /v1/events/stream: admin/events.ts on
 * the SQLite engine's file; on PostgreSQL, store/postgres/event-stream.ts, so events
 * stored by any instance come, in the stream's order, none skipped.
 */
import type { OperatorConfig } from "../config/schema";
import { eventFilter, eventsAfter } from "../admin/events";
import type { EventEnvelope } from "../events/envelope";
import { eventSummary, summaryId } from "../events/summary";
import type { EventFilter } from "../store/event-query";
import { isStorageFailure, toStorageError } from "../store/errors";
import { postgresEventStream } from "../store/postgres/event-stream";
import { openExisting, UsageError } from "./operator";
import { openPostgresExisting } from "./postgres-operator";

const POLL_MS = 250;
const BATCH = 500;

/** Where tail reads: events after a cursor (null: from now on), parsed, and the next cursor. */
interface TailSource {
  after(filter: EventFilter, after: string | null, limit: number): Promise<{ events: unknown[]; last: string | null }>;
  close(): Promise<void>;
}

export async function runTail(config: OperatorConfig, type: string | null, json: boolean): Promise<number> {
  const filter = eventFilter({ type: type ?? undefined });
  if (typeof filter === "string") throw new UsageError(`--${filter}`);
  const source = config.storage.engine === "postgres" ? await postgresSource(config) : sqliteSource(config);
  let stopped = false;
  const stop = () => (stopped = true);
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    let after: string | null = null;
    while (!stopped) {
      const batch = await source.after(filter, after, BATCH);
      for (const event of batch.events as EventEnvelope[]) process.stdout.write((json ? JSON.stringify(event) : line(event)) + "\n");
      after = batch.last;
      if (batch.events.length < BATCH) await Bun.sleep(POLL_MS);
    }
    return 0;
  } finally {
    await source.close();
  }
}

function sqliteSource(config: OperatorConfig): TailSource {
  const db = openExisting(config.storage.path, config.storage.synchronous);
  return { after: async (filter, after, limit) => eventsAfter(db, filter, after, limit), close: async () => db.close() };
}

async function postgresSource(config: OperatorConfig): Promise<TailSource> {
  const sql = await openPostgresExisting(config, "tail");
  const stream = postgresEventStream(sql);
  return {
    async after(filter, after, limit) {
      try {
        const batch = await stream.after(filter, after, limit, Infinity);
        return { events: batch.events.map((e) => JSON.parse(e.envelope)), last: batch.last };
      } catch (err) {
        throw isStorageFailure(err) ? toStorageError(err) : err;
      }
    },
    close: () => sql.close(),
  };
}

/** time, type, what it is about, a short summary (events/summary.ts: no personal data). */
export function line(e: EventEnvelope): string {
  return [e.received_at, e.type.padEnd(20), summaryId(e), eventSummary(e)].join("  ");
}
