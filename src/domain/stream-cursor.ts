/**
 * Where a client of the live stream (GET /v1/events/stream, `wa-webhookd tail`) is: a
 * cursor, compared as a string, growing in the order the stream sends events.
 *
 * - SQLite: the event id itself (one writer: ids grow in commit order).
 * - PostgreSQL: `<transaction id, 20 digits>.<event id>`, the order of the events table's
 *   `(tx, id)` (migrations/postgres/0006_event_stream.sql says why not the id alone). A
 *   cursor with nothing after the dot stands before every event of that transaction.
 *
 * Either way the cursor ends with the event id it stands at (the SSE id a client sends
 * back as Last-Event-ID), so the stream can always name where to resume.
 */

const EVENT_ID_AT_END = /evt_[0-9A-HJKMNP-TV-Z]{26}$/;
/** xid8 is an unsigned 64-bit integer: at most 20 decimal digits, zero-padded so strings sort as numbers. */
const TX_DIGITS = 20;
const PG_CURSOR = /^(\d{20})\.(.*)$/;

/** The event id a cursor stands at; null when it stands before any (a stream that started on no event). */
export function cursorEventId(cursor: string): string | null {
  return EVENT_ID_AT_END.exec(cursor)?.[0] ?? null;
}

/** The PostgreSQL engine's cursor at event `id` of transaction `tx` ("": before that transaction's events). */
export function pgCursor(tx: string | bigint, id: string): string {
  return `${String(tx).padStart(TX_DIGITS, "0")}.${id}`;
}

/** A PostgreSQL cursor's parts (tx as decimal text, for an xid8 parameter); null when it is not one. */
export function parsePgCursor(cursor: string): { tx: string; id: string } | null {
  const m = PG_CURSOR.exec(cursor);
  return m ? { tx: m[1]!.replace(/^0+(?=\d)/, ""), id: m[2]! } : null;
}
