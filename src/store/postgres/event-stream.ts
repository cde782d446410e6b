/**
 * The live stream's reads on the PostgreSQL engine (GET /v1/events/stream, `wa-webhookd
 * tail`): events in the order of `(tx, id)`, the transaction that stored each and its id
 * (migrations/postgres/0006_event_stream.sql), with cursors of domain/stream-cursor.ts.
 *
 * Why it never skips an event: a read sees only events whose transaction is older than
 * the oldest transaction still running when the read began (the horizon,
 * `pg_snapshot_xmin` of the read's own snapshot). Every such transaction has ended, so
 * the events below the horizon are all there, and whatever commits later has a
 * transaction id at or above it, after any cursor a read gave out. No doubles either:
 * the cursor only moves forward over a unique key. The cost is latency, never loss: an
 * event waits until the transactions that began before its own have ended (batches
 * here are short; a transaction left open elsewhere on the server holds the stream back).
 */
import type { SQL } from "bun";
import { parsePgCursor, pgCursor } from "../../domain/stream-cursor";
import type { EventFilter, StreamBatch, StreamRow } from "../event-query";
import { filterConditions, type Param } from "./event-filter";

/** The horizon of the statement's own snapshot: every transaction below it has ended. */
const HORIZON = "pg_snapshot_xmin(pg_current_snapshot())";

type Row = Omit<StreamRow, "cursor"> & { tx: string; total: number };

export function postgresEventStream(sql: SQL) {
  return {
    /**
     * Events after cursor `after` (null: from now on, no event), in stream order, as many as
     * fit in `maxBytes` of envelope (at least one), and whether more wait. `after` is a
     * cursor this engine gave (a client's Last-Event-ID goes through `resume` first).
     */
    async after(filter: EventFilter, after: string | null, limit: number, maxBytes: number): Promise<StreamBatch> {
      // A stream that starts now starts at the horizon: everything not yet final comes.
      if (after === null) return { events: [], last: pgCursor((await sql.unsafe(`SELECT ${HORIZON}::text AS h`))[0].h, ""), more: false };
      const at = parsePgCursor(after);
      if (at === null) throw new Error(`not a stream cursor of the PostgreSQL engine: ${after}`);
      const params: Param[] = [at.tx, at.id];
      const where = ["tx < (SELECT h FROM horizon)", `(tx, id COLLATE "C") > ($1::xid8, $2::text COLLATE "C")`, ...filterConditions(filter, params)];
      const rows = (await sql.unsafe(
        `WITH horizon AS (SELECT ${HORIZON} AS h),
         page AS (SELECT id, tx, octet_length(envelope) AS bytes FROM events WHERE ${where.join(" AND ")} ORDER BY tx, id COLLATE "C" LIMIT ${limit}),
         fit AS (SELECT id, tx, row_number() OVER w AS n, sum(bytes) OVER w AS upto, count(*) OVER () AS total FROM page WINDOW w AS (ORDER BY tx, id COLLATE "C"))
         SELECT e.id, e.type, e.received_at::float8 AS received_at, e.phone_number_id, e.wamid, e.wa_id, e.envelope, f.tx::text AS tx, f.total::int AS total
         FROM fit f JOIN events e ON e.id = f.id WHERE f.n = 1 OR f.upto <= ${Math.floor(Math.min(maxBytes, Number.MAX_SAFE_INTEGER))}
         ORDER BY f.tx, f.id COLLATE "C"`,
        params,
      )) as Row[];
      const events = rows.map(({ tx, total: _total, ...row }) => ({ ...row, cursor: pgCursor(tx, row.id) }));
      const total = rows[0]?.total ?? 0;
      return { events, last: events.at(-1)?.cursor ?? after, more: events.length < total || total === limit };
    },

    /**
     * The cursor at the event a client last received (its Last-Event-ID). An event no longer
     * stored (retention, an erasure) resumes before the first event stored after its id;
     * none: at the horizon.
     */
    async resume(eventId: string): Promise<string> {
      const [row] = await sql`
        SELECT (SELECT tx::text FROM events WHERE id = ${eventId}) AS exact,
               (SELECT min(tx)::text FROM events WHERE id > ${eventId}) AS later,
               pg_snapshot_xmin(pg_current_snapshot())::text AS horizon`;
      if (row.exact !== null) return pgCursor(row.exact, eventId);
      return pgCursor(row.later ?? row.horizon, "");
    },
  };
}

/**
 * At start: a database restored from a dump into another cluster (pg_dump/pg_restore,
 * a logical copy) carries transaction ids from a counter this cluster has not reached,
 * so every new event would sort before the stored ones, hidden from a resumed stream
 * until the counter caught up, and the old ones would then come again as new. Every
 * event is then put back to tx 0, where rows from before the stream's order sort, by id
 * (migrations/postgres/0006; ids are time-ordered), those an instance stored since the
 * restore too: new events follow them all again. A client resuming may get a few events
 * twice around its cursor, never miss one. Answers how many rows moved.
 * A replica or pg_upgrade keeps the counter: nothing to do, one index probe.
 */
export async function settleStreamOrder(sql: SQL): Promise<number> {
  const [{ ahead }] = await sql`SELECT coalesce((SELECT max(tx) FROM events) >= pg_current_xact_id(), false) AS ahead`;
  if (!ahead) return 0;
  return (await sql`UPDATE events SET tx = '0' WHERE tx <> '0'`).count;
}
