/**
 * Reading stored events for the admin API (GET /v1/events, /v1/events/{id}, the
 * stream). Newest first by id: ids grow in commit order (one writer), so a page after
 * a cursor is the same whatever is inserted meanwhile. Each query is driven by one
 * index ending in id (migrations/0008), named with INDEXED BY so that a filtered page
 * is an index range and never a scan of the table; the other filters only sieve it.
 */
import type { Database } from "bun:sqlite";
import { identityOf } from "../domain/identity";
import { newestOfEach } from "../domain/person-pages";
import { eventIdFloor } from "../util/ids";
import { identityStore } from "./identity-store";

export interface EventFilter {
  /** Exact event types (a glob is expanded by the caller); null: any. */
  types: readonly string[] | null;
  phoneNumberId: string | null;
  wamid: string | null;
  /** The person: an inbound message's sender, a status's recipient. A page finds every id they had. */
  waId: string | null;
  /**
   * Every id of the person `waId` names, for the live stream: resolved once when it starts
   * (GET /v1/events/stream), since its events are matched in memory too. Absent: `waId` alone.
   */
  person?: readonly string[];
  /** unix ms; received_at ≥ since */
  since: number | null;
  /** unix ms; received_at < until */
  until: number | null;
}

export interface EventRow {
  id: string;
  type: string;
  received_at: number;
  envelope: string;
}

/** An event as the live stream sends it: the envelope and the columns its filters look at. */
export interface StreamRow {
  id: string;
  type: string;
  received_at: number;
  phone_number_id: string | null;
  wamid: string | null;
  wa_id: string | null;
  envelope: string;
  /** Where the stream stands after this event (domain/stream-cursor.ts); absent: its id (SQLite). */
  cursor?: string;
}

/** A stream's next batch: the rows, the cursor to go on from, and whether more wait. */
export type StreamBatch = { events: StreamRow[]; last: string | null; more: boolean };

/** The filter applied to a row already read: the same conditions as the SQL of pageQuery. */
export function eventMatches(f: EventFilter, e: Omit<StreamRow, "id" | "envelope" | "cursor">): boolean {
  return (
    (f.types === null || f.types.includes(e.type)) &&
    (f.phoneNumberId === null || e.phone_number_id === f.phoneNumberId) &&
    (f.wamid === null || e.wamid === f.wamid) &&
    (f.waId === null || (f.person ?? [f.waId]).includes(e.wa_id ?? "")) &&
    (f.since === null || e.received_at >= f.since) &&
    (f.until === null || e.received_at < f.until)
  );
}

export interface EventPage {
  rows: EventRow[];
  /** The last row's id when more may follow. */
  next: string | null;
}

type Param = string | number;

/** The driving index and its condition: the most selective filter given. */
function drive(f: EventFilter, type: string | null): { index: string | null; where: string; params: Param[] } {
  if (f.wamid !== null) return { index: "events_by_wamid", where: "wamid = ?", params: [f.wamid] };
  if (f.waId !== null) return { index: "events_by_wa_id", where: "wa_id = ?", params: [f.waId] };
  if (type !== null) return { index: "events_by_type_id", where: "type = ?", params: [type] };
  if (f.phoneNumberId !== null) return { index: "events_by_phone_number", where: "phone_number_id = ?", params: [f.phoneNumberId] };
  return { index: null, where: "1", params: [] }; // the primary key's own index
}

const ROW = "id, type, received_at, envelope";
/** An envelope's size from its record header: rows left out of a batch are never read. */
const SIZE = "id, octet_length(envelope) AS bytes";

/** The SQL of one page (exported for the query-plan test). */
export function pageQuery(f: EventFilter, type: string | null, direction: "newest" | "oldest", after: string | null, limit: number, columns = ROW): { sql: string; params: Param[] } {
  const d = drive(f, type);
  const where = [d.where];
  const params = [...d.params];
  const sieve = (sql: string, ...p: Param[]) => (where.push(sql), params.push(...p));
  if (f.types !== null && type === null) sieve(`type IN (${f.types.map(() => "?").join(", ")})`, ...f.types);
  if (f.waId !== null && d.index !== "events_by_wa_id") sieve("wa_id = ?", f.waId);
  if (f.phoneNumberId !== null && d.index !== "events_by_phone_number") sieve("phone_number_id = ?", f.phoneNumberId);
  // An event is stored after it arrived: its id's time bounds the range from below.
  if (f.since !== null) sieve("id >= ? AND received_at >= ?", eventIdFloor(f.since), f.since);
  if (f.until !== null) sieve("received_at < ?", f.until);
  if (after !== null) sieve(direction === "newest" ? "id < ?" : "id > ?", after);
  params.push(limit);
  return {
    sql: `SELECT ${columns} FROM events ${d.index ? `INDEXED BY ${d.index}` : ""} WHERE ${where.join(" AND ")} ORDER BY id ${direction === "newest" ? "DESC" : "ASC"} LIMIT ?`,
    params,
  };
}

export function eventQuery(db: Database) {
  const run = <R extends { id: string }>(f: EventFilter, type: string | null, direction: "newest" | "oldest", after: string | null, limit: number, columns: string) => {
    const q = pageQuery(f, type, direction, after, limit, columns);
    return db.query<R, Param[]>(q.sql).all(...q.params);
  };
  /** Several types with no more selective filter: one index range per type, merged. */
  const merged = <R extends { id: string } = EventRow>(f: EventFilter, direction: "newest" | "oldest", after: string | null, limit: number, columns = ROW) => {
    const useTypes = f.types !== null && f.wamid === null && f.waId === null;
    const rows = useTypes ? f.types!.flatMap((t) => run<R>(f, t, direction, after, limit, columns)) : run<R>(f, null, direction, after, limit, columns);
    if (useTypes) rows.sort((a, b) => (a.id < b.id ? 1 : -1) * (direction === "newest" ? 1 : -1));
    return rows.slice(0, limit);
  };
  const identities = identityStore(db);
  /** Every id the person `waId` names has had (just `waId` when none is linked). */
  const personIds = (waId: string): string[] => identityOf(waId, identities.ofPersons([waId])).ids;
  const streamRows = db.prepare<StreamRow, [string]>(
    "SELECT id, type, received_at, phone_number_id, wamid, wa_id, envelope FROM events WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
  );
  const byId = db.prepare<EventRow & { inbox_id: number | null }, [string]>("SELECT id, type, received_at, envelope, inbox_id FROM events WHERE id = ?");
  const inbox = db.prepare<{ id: number; received_at: number; signature: string; user_agent: string | null; remote_addr: string | null; state: string; body: Uint8Array }, [number]>(
    `SELECT i.id, i.received_at, i.signature, i.user_agent, i.remote_addr, i.state, b.body FROM inbox i JOIN inbox_bodies b ON b.inbox_id = i.id WHERE i.id = ?`,
  );
  const deliveries = db.prepare<Record<string, string | number | null>, [string]>(
    "SELECT id, hook, state, attempts, next_attempt_at, last_status, last_error, last_response, created_at, updated_at FROM deliveries WHERE event_id = ? ORDER BY hook",
  );

  return {
    personIds,
    /** A page newest first, after the cursor (an event id); `from` a person: every id they had. */
    page(f: EventFilter, after: string | null, limit: number): EventPage {
      const ids = f.waId === null ? [null] : personIds(f.waId);
      const rows = newestOfEach(ids.map((waId) => merged({ ...f, waId }, "newest", after, limit + 1)), limit + 1);
      const more = rows.length > limit;
      const page = rows.slice(0, limit);
      return { rows: page, next: more ? page[page.length - 1]!.id : null };
    },
    /**
     * Events stored after `after`, oldest first (the live stream): as many as fit in
     * `maxBytes` of envelope (at least one), and whether more wait.
     */
    since(f: EventFilter, after: string | null, limit: number, maxBytes: number): { rows: StreamRow[]; more: boolean } {
      // A person's ids: one index range each, merged oldest first.
      const ids = f.waId === null ? [null] : (f.person ?? [f.waId]);
      const sized = ids
        .flatMap((waId) => merged<{ id: string; bytes: number }>({ ...f, waId, person: undefined }, "oldest", after, limit, SIZE))
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .slice(0, limit);
      let fit = 0;
      for (let bytes = 0; fit < sized.length; fit++) {
        bytes += sized[fit]!.bytes;
        if (fit > 0 && bytes > maxBytes) break;
      }
      const rows = fit === 0 ? [] : streamRows.all(JSON.stringify(sized.slice(0, fit).map((r) => r.id)));
      return { rows, more: fit < sized.length || sized.length === limit };
    },
    /** The newest event id, where a stream without Last-Event-ID starts. */
    latestId: () => db.query<{ id: string | null }, []>("SELECT max(id) id FROM events").get()?.id ?? null,
    get: (id: string) => byId.get(id),
    inbox: (inboxId: number) => inbox.get(inboxId),
    deliveries: (eventId: string) => deliveries.all(eventId),
  };
}
