/** GET /v1/alerts: the alerts recorded, sent or not (without [alerts] url they live only here and in the log). */
import type { Database } from "bun:sqlite";
import { ALERT_KINDS, type AlertRow } from "../domain/alert";
import { unknownTypeMessage } from "../events/type-glob";
import { alertStore, type AlertFilter } from "../store/alert-store";
import { isoOrNull } from "../util/time";
import { badRequest, page, type AdminAnswer } from "./answers";
import { encodeCursor, expandTypes, rowCursor, type AlertsQuery } from "./params";

export function listAlerts(db: Database, q: AlertsQuery): AdminAnswer {
  const request = alertsRequest(q);
  if ("status" in request) return request;
  return alertsPage(alertStore(db).list(request.filter, request.before, q.limit + 1), q.limit);
}

/** Which alerts and page a query asks for, or the 400 that says what is wrong (both engines). */
export function alertsRequest(q: AlertsQuery): { filter: AlertFilter; before: number | null } | AdminAnswer {
  const kinds = q.kind === undefined ? null : expandTypes(q.kind, ALERT_KINDS);
  if (q.kind !== undefined && kinds === null) return badRequest(`kind: ${unknownTypeMessage(q.kind, ALERT_KINDS, ["alert kind", "kinds"])}`);
  const before = rowCursor(q.cursor);
  if (before === "bad") return badRequest("cursor: not a cursor this API gave out");
  const filter = { kinds, state: q.state ?? null, since: dateOf(q.since), until: dateOf(q.until) };
  if (filter.since !== null && filter.until !== null && filter.until <= filter.since) return badRequest("until: must be after since");
  return { filter, before };
}

/** A page of alerts (`limit` + 1 rows read, newest first) as the API shows it (both engines). */
export function alertsPage(rows: readonly AlertRow[], limit: number): AdminAnswer {
  const shown = rows.slice(0, limit);
  const data = shown.map(({ dedup_key: _, data, created_at, sent_at, ...a }) => ({
    ...a,
    data: JSON.parse(data) as unknown,
    created_at: isoOrNull(created_at),
    sent_at: isoOrNull(sent_at),
  }));
  return page(data, rows.length > limit ? encodeCursor(shown.at(-1)!.id) : null);
}

const dateOf = (text: string | undefined) => (text === undefined ? null : Date.parse(text));
