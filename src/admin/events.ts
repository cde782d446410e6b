/**
 * GET /v1/events (filters, pages), GET /v1/events/{id} (envelope, raw webhook,
 * deliveries) and the batches of the live stream. Shared with `wa-webhookd tail`.
 */
import type { Database } from "bun:sqlite";
import { eventQuery, type EventFilter, type EventPage, type EventRow, type StreamBatch } from "../store/event-query";
import { isoOrNull } from "../util/time";
import { badRequest, notFound, ok, page, type AdminAnswer } from "./answers";
import { decodeCursor, encodeCursor, expandTypes, type EventsQuery } from "./params";
import { personId } from "../whatsapp/phone-mention";

const EVENT_ID = /^evt_[0-9A-HJKMNP-TV-Z]{26}$/;
export const isEventId = (s: string) => EVENT_ID.test(s);

export type EventFilterQuery = Omit<EventsQuery, "limit" | "cursor">;

/** Query parameters → the store's filter, or the reason they are wrong. */
export function eventFilter(q: EventFilterQuery): EventFilter | string {
  const types = q.type === undefined ? null : expandTypes(q.type);
  if (types === null && q.type !== undefined) return `type: "${q.type}" matches no event type (docs/events.md lists them)`;
  // As /v1/alerts and /v1/replay say it: an empty window is a mistake, not an empty page.
  if (q.since !== undefined && q.until !== undefined && Date.parse(q.until) <= Date.parse(q.since)) return "until: must be after since";
  return {
    types,
    phoneNumberId: q.phone_number_id ?? null,
    wamid: q.wamid ?? null,
    // As a contact is looked up: a number in any usual writing (+, spaces, dashes, brackets), or a user id.
    waId: q.from === undefined ? null : (personId(q.from) ?? q.from.trim()),
    since: q.since === undefined ? null : Date.parse(q.since),
    until: q.until === undefined ? null : Date.parse(q.until),
  };
}

export const envelopeOf = (row: EventRow): unknown => JSON.parse(row.envelope);

/** The query's filter and cursor, or the 400 that says what is wrong with them. */
export function eventsRequest(q: EventsQuery): { filter: EventFilter; after: string | null } | AdminAnswer {
  const filter = eventFilter(q);
  if (typeof filter === "string") return badRequest(filter);
  const after = q.cursor === undefined ? null : decodeCursor(q.cursor, isEventId);
  if (after === null && q.cursor !== undefined) return badRequest("cursor: not a cursor this API gave out");
  return { filter, after };
}

export const eventsPage = ({ rows, next }: EventPage): AdminAnswer => page(rows.map(envelopeOf), next === null ? null : encodeCursor(next));

export function listEvents(db: Database, q: EventsQuery): AdminAnswer {
  const request = eventsRequest(q);
  if ("status" in request) return request;
  return eventsPage(eventQuery(db).page(request.filter, request.after, q.limit));
}

export function getEvent(db: Database, id: string): AdminAnswer {
  const events = eventQuery(db);
  const row = isEventId(id) ? events.get(id) : null;
  if (!row) return notFound(`no event ${id}`);
  return eventAnswer(row, row.inbox_id === null ? null : events.inbox(row.inbox_id), events.deliveries(row.id));
}

type InboxView = { id: number; received_at: number; signature: string; user_agent: string | null; remote_addr: string | null; state: string; body: Uint8Array };

/** GET /v1/events/{id}'s answer from what an engine read: the envelope, the webhook as received, its deliveries. */
export function eventAnswer(row: EventRow, inbox: InboxView | null | undefined, deliveries: Record<string, string | number | null>[]): AdminAnswer {
  return ok({
    event: envelopeOf(row),
    // The webhook exactly as Meta sent it (null for events the daemon raised itself).
    webhook: inbox ? { inbox_id: inbox.id, received_at: isoOrNull(inbox.received_at), signature: inbox.signature, user_agent: inbox.user_agent, remote_addr: inbox.remote_addr, state: inbox.state, ...bodyView(inbox.body) } : null,
    deliveries: deliveries.map((d) => ({
      ...d,
      next_attempt_at: d.state === "pending" ? isoOrNull(d.next_attempt_at as number) : null,
      created_at: isoOrNull(d.created_at as number),
      updated_at: isoOrNull(d.updated_at as number),
    })),
  });
}

/** A body as received: text when it is UTF-8 (a webhook always is), else base64. */
function bodyView(body: Uint8Array): { body: string; body_encoding: "utf-8" | "base64" } {
  try {
    return { body: new TextDecoder("utf-8", { fatal: true }).decode(body), body_encoding: "utf-8" };
  } catch {
    return { body: Buffer.from(body).toString("base64"), body_encoding: "base64" };
  }
}

/**
 * The stream's next batch as stored (JSON text): events after `after` (null: from now
 * on), oldest first, as many as fit in `maxBytes` (at least one), and whether more wait.
 */
export function envelopesAfter(db: Database, filter: EventFilter, after: string | null, limit: number, maxBytes = Infinity): StreamBatch {
  const events = eventQuery(db);
  // "evt_" sorts before every id: a stream that starts on an empty database misses nothing.
  if (after === null) return { events: [], last: events.latestId() ?? "evt_", more: false };
  const { rows, more } = events.since(filter, after, limit, maxBytes);
  return { events: rows, last: rows.at(-1)?.id ?? after, more };
}

/** The same batch, parsed (`wa-webhookd tail`). */
export function eventsAfter(db: Database, filter: EventFilter, after: string | null, limit: number): { events: unknown[]; last: string | null } {
  const batch = envelopesAfter(db, filter, after, limit);
  return { events: batch.events.map((e) => JSON.parse(e.envelope)), last: batch.last };
}
