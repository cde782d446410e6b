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
import { digitsOf, keyedRedactor, noRedaction, WAMID_IN_TEXT, type Redactor } from "../util/redact";
import { randomBytes } from "node:crypto";
import { escapeControls } from "../util/terminal";

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
  // log.redact_key is a secret operator commands do not read: a key of this run's own
  // keeps one number's lines together without matching the daemon's hashes.
  const redactor = config.log.redact ? keyedRedactor(randomBytes(32).toString("hex")) : noRedaction;
  // Events stored before now are not printed: say so, on stderr (stdout stays the events).
  if (process.stderr.isTTY) process.stderr.write("wa-webhookd tail: events as they are stored from now on (earlier ones: GET /v1/events, or the console's search); Ctrl-C stops\n");
  let stopped = false;
  const stop = () => (stopped = true);
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    let after: string | null = null;
    while (!stopped) {
      const batch = await source.after(filter, after, BATCH);
      for (const event of batch.events as EventEnvelope[]) process.stdout.write((json ? JSON.stringify(event) : line(event, redactor)) + "\n");
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

/**
 * time, type, what it is about, a short summary (events/summary.ts: no personal data).
 * What Meta relays from users and businesses (a template's name, a file's type, the id a
 * reaction names) reaches the operator's terminal: control characters are shown escaped,
 * never obeyed (an escape sequence could clear the screen or forge a line), and a
 * phone-like number in it is a keyed hash, as in the logs.
 */
export function line(e: EventEnvelope, redactor: Redactor): string {
  // The id column holds ids (template, phone number, call): only the summary's free text
  // is searched for numbers; a wamid in it (the message a reaction answers) stays as the
  // id column shows wamids, to be looked up.
  const summary = eventSummary(e)
    .split(WAMID_IN_TEXT)
    .map((part, i) => (i % 2 === 1 ? part : redactor.text(part, business(e))))
    .join("");
  return [e.received_at, e.type.padEnd(20), escapeControls(summaryId(e)), escapeControls(summary)].join("  ");
}

/** The business's own number is not personal: kept in clear, as in the logs. */
const business = (e: EventEnvelope): ReadonlySet<string> => new Set(e.display_phone_number ? [digitsOf(e.display_phone_number)] : []);

