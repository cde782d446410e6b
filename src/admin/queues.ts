/**
 * What is stuck, and putting it back: deliveries (list, retry one or a hook's dead ones,
 * replay an event or a time range) and inbox rows the worker could not process (list,
 * reprocess one). The (re)queueing is store/requeue-store.ts, shared with the operator commands.
 */
import type { Database } from "bun:sqlite";
import type { HookRoute } from "../config/schema";
import { inspectStore, type DeliveryListRow, type InboxListRow } from "../store/inspect-store";
import { isoOrNull } from "../util/time";
import type { EventSelection } from "../domain/selection";
import type { z } from "zod";
import { badRequest, conflict, notFound, ok, page, type AdminAnswer } from "./answers";
import { isEventId } from "./events";
import { decodeCursor, encodeCursor, expandTypes, rowCursor, type DeliveriesQuery, type InboxQuery, type OrphansBody, type ReplayBody } from "./params";
import { OPEN_DELIVERY_STATES } from "../domain/delivery";
import { replayPage, reprocessDeadInbox, retryDeadDeliveries, resolveOrphans } from "../store/requeue-store";
import { ReplayError, type ReplayPage } from "../domain/replay";
import { OrphanError } from "../domain/orphans";

const PREVIEW_BYTES = 2048;

/** A hook the config does not have: the 400 names the ones it has. */
export function unknownHook(hooks: readonly HookRoute[], name: string | undefined | null): AdminAnswer | null {
  if (name == null || hooks.some((h) => h.name === name)) return null;
  return badRequest(`hook: no hook named "${name}" (hooks: ${hooks.map((h) => h.name).join(", ") || "none"})`);
}

export function listDeliveries(db: Database, hooks: readonly HookRoute[], q: DeliveriesQuery): AdminAnswer {
  const inspect = inspectStore(db);
  const running = hooks.map((h) => h.name);
  const request = deliveriesRequest(q, running, inspect.hooksWithDeliveries());
  if ("status" in request) return request;
  return deliveriesPage(inspect.deliveries(request.names, request.states, request.before, q.limit + 1), q.limit, running);
}

/** Which hooks, states and cursor a delivery list reads, or the 400 that says what is wrong. */
export function deliveriesRequest(q: DeliveriesQuery, running: readonly string[], withDeliveries: readonly string[]) {
  // Hooks removed from the config keep their deliveries: those are listed too, as orphaned.
  const known = [...new Set([...running, ...withDeliveries])];
  if (q.hook !== undefined && !known.includes(q.hook)) return badRequest(`hook: no hook named "${q.hook}" has deliveries (hooks: ${known.join(", ") || "none"})`);
  const before = rowCursor(q.cursor);
  if (before === "bad") return badRequest("cursor: not a cursor this API gave out");
  const names = (q.hook !== undefined ? [q.hook] : known).filter((name) => q.orphaned === undefined || q.orphaned !== running.includes(name));
  // Orphaned: open deliveries of a removed hook (finished ones need nothing from anyone).
  const open: readonly string[] = OPEN_DELIVERY_STATES;
  const states = q.orphaned === true ? (q.state === undefined ? open : open.filter((s) => s === q.state)) : q.state === undefined ? null : [q.state];
  return { names, states, before };
}

/** A page of deliveries (`limit` + 1 rows read, newest first) as the API shows it. */
export function deliveriesPage(rows: readonly DeliveryListRow[], limit: number, running: readonly string[]): AdminAnswer {
  const open: readonly string[] = OPEN_DELIVERY_STATES;
  const shown = rows.slice(0, limit);
  const data = shown.map((d) => ({
    ...d,
    next_attempt_at: d.state === "pending" ? isoOrNull(d.next_attempt_at) : null,
    created_at: isoOrNull(d.created_at),
    updated_at: isoOrNull(d.updated_at),
    orphaned: !running.includes(d.hook) && open.includes(d.state),
  }));
  return page(data, rows.length > limit ? encodeCursor(shown[shown.length - 1]!.id) : null);
}

export function retryDelivery(db: Database, hooks: readonly HookRoute[], id: number, now: number): AdminAnswer {
  const hook = inspectStore(db).delivery(id)?.hook;
  if (hook !== undefined && !hooks.some((h) => h.name === hook)) return orphanedDelivery(id, hook);
  const r = db.transaction(() => inspectStore(db).retryDelivery(id, now)).immediate();
  if (r.retried) return ok({ id, state: "pending" });
  if (r.state === null) return notFound(`no delivery ${id}`);
  return conflict("not_dead", `delivery ${id} is ${r.state}; only dead or disabled deliveries are retried`);
}

/** POST /v1/deliveries/retry: every dead delivery of a hook the daemon runs due again now (store/requeue-store.ts, as `retry-dead --hook`). */
export function retryDeadOfHook(db: Database, hooks: readonly HookRoute[], hook: string, now: number): AdminAnswer {
  const refused = retryDeadRefused(hook, hooks.map((h) => h.name), inspectStore(db).hooksWithDeliveries());
  return refused ?? deadRetried(hook, retryDeadDeliveries(db, now, hook));
}

/** Why a hook's dead deliveries cannot be retried, or null when they can (both engines): a hook not run is orphaned (409) or unknown (404). */
export function retryDeadRefused(hook: string, running: readonly string[], withDeliveries: readonly string[]): AdminAnswer | null {
  if (running.includes(hook)) return null;
  if (withDeliveries.includes(hook)) {
    return conflict("orphaned", `hook "${hook}" is no longer run by the daemon: nothing would send its deliveries; cancel them or move them to another hook (POST /v1/deliveries/orphaned)`);
  }
  const known = [...new Set([...running, ...withDeliveries])];
  return notFound(`no hook named "${hook}" is run or has deliveries (hooks: ${known.join(", ") || "none"})`);
}

export const deadRetried = (hook: string, retried: number): AdminAnswer => ok({ hook, retried });

/** A retry refused: no one sends that hook's deliveries (both engines). */
export const orphanedDelivery = (id: number, hook: string): AdminAnswer =>
  conflict("orphaned", `delivery ${id} belongs to hook "${hook}", which the daemon no longer runs: cancel it or move it to another hook (POST /v1/deliveries/orphaned)`);

/** POST /v1/deliveries/orphaned: cancel or move the deliveries of hooks the daemon no longer runs. */
export function resolveOrphaned(db: Database, hooks: readonly HookRoute[], body: z.infer<typeof OrphansBody>, now: number): AdminAnswer {
  try {
    return ok(resolveOrphans(db, hooks.map((h) => h.name), body.hook ?? null, body, now));
  } catch (err) {
    if (err instanceof OrphanError) return badRequest(err.message);
    throw err;
  }
}

export function replayEvent(db: Database, hooks: readonly HookRoute[], id: string, hook: string | null, now: number): AdminAnswer {
  if (!isEventId(id)) return notFound(`no event ${id}`);
  return replay(db, hooks, { eventId: id, type: null, since: null, until: null }, hook, now, { after: null, limit: 1 });
}

export function replayRange(db: Database, hooks: readonly HookRoute[], body: z.infer<typeof ReplayBody>, now: number): AdminAnswer {
  const request = replayRangeRequest(body, now);
  if ("status" in request) return request;
  return replay(db, hooks, request.selection, body.hook ?? null, now, request.page);
}

/** The events and page a range replay asks for, or the 400 that says what is wrong (both engines). */
export function replayRangeRequest(body: z.infer<typeof ReplayBody>, now: number): { selection: EventSelection; page: { after: string | null; limit: number } } | AdminAnswer {
  if (body.type !== undefined && expandTypes(body.type) === null) return badRequest(`type: "${body.type}" matches no event type`);
  const since = Date.parse(body.since);
  const until = body.until === undefined ? now : Date.parse(body.until);
  if (until <= since) return badRequest("until: must be after since");
  const after = body.cursor === undefined ? null : decodeCursor(body.cursor, isEventId);
  if (after === null && body.cursor !== undefined) return badRequest("cursor: not a cursor this API gave out");
  return { selection: { eventId: null, type: body.type ?? null, since, until }, page: { after, limit: body.limit } };
}

function replay(db: Database, hooks: readonly HookRoute[], selection: EventSelection, hook: string | null, now: number, page: { after: string | null; limit: number }): AdminAnswer {
  const wrongHook = unknownHook(hooks, hook);
  if (wrongHook) return wrongHook;
  try {
    // A named hook gets the events even if its filters exclude them: the operator asked for it.
    return replayAnswer(replayPage(db, hooks, { selection, hook, force: hook !== null }, now, page.after, page.limit));
  } catch (err) {
    if (err instanceof ReplayError) return notFound(err.message);
    throw err;
  }
}

/** What a replay queued, as the API says it. */
export function replayAnswer(result: ReplayPage): AdminAnswer {
  return ok({
    events: result.events,
    queued: result.queued,
    deliveries: Object.values(result.queued).reduce((a, b) => a + b, 0),
    next_cursor: result.next === null ? null : encodeCursor(result.next),
  });
}

export function listInbox(db: Database, q: InboxQuery): AdminAnswer {
  const before = rowCursor(q.cursor);
  if (before === "bad") return badRequest("cursor: not a cursor this API gave out");
  return inboxPage(inspectStore(db).inbox(q.state, before, q.limit + 1), q.limit);
}

/** A page of inbox rows (`limit` + 1 read, newest first) as the API shows it. */
export function inboxPage(rows: readonly InboxListRow[], limit: number): AdminAnswer {
  const shown = rows.slice(0, limit);
  const data = shown.map(({ body, ...r }) => ({
    ...r,
    parseable: r.parseable === 1,
    received_at: isoOrNull(r.received_at),
    processed_at: isoOrNull(r.processed_at),
    // The start of the body, to see what it was; GET /v1/events/{id} or the database has all of it.
    body_preview: new TextDecoder().decode(body.subarray(0, PREVIEW_BYTES)),
  }));
  return page(data, rows.length > limit ? encodeCursor(shown[shown.length - 1]!.id) : null);
}

export function reprocessInbox(db: Database, id: number): AdminAnswer {
  try {
    return ok({ id, revived: reprocessDeadInbox(db, id) });
  } catch (err) {
    if (!(err instanceof ReplayError)) throw err;
    return err.message.startsWith("no inbox row") ? notFound(err.message) : conflict("not_dead", err.message);
  }
}
