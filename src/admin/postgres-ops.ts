/**
 * The admin API on the PostgreSQL engine, with the same answers as on SQLite, through
 * the same builders: events, one event, the live stream's batches, one message with its
 * fallback, stats (and per day), templates, the scheduled jobs (which instance ran them;
 * running one now), the delivery and inbox lists, replaying one event or a range,
 * retrying a dead delivery or a hook's dead ones, cancelling or moving orphaned
 * deliveries, reprocessing a dead webhook, a contact and their erasure, the alerts, and
 * SMS fallback's routes. Storage trouble is a StorageError (the route answers 503), as
 * on SQLite.
 *
 * Instances may run different hooks for a while (a rolling reload): replays go to the
 * hooks of the instance that answers, as its dispatcher runs them; a hook is orphaned only
 * when no live instance runs it (store/postgres/instance-hooks.ts), so one instance never
 * cancels what another still sends.
 */
import type { SQL } from "bun";
import { Cron } from "croner";
import { isStorageFailure, toStorageError } from "../store/errors";
import { postgresAdminQueries } from "../store/postgres/admin-queries";
import { postgresEventStream } from "../store/postgres/event-stream";
import { isoOrNull } from "../util/time";
import { badRequest, conflict, notFound, ok, type AdminAnswer } from "./answers";
import { rowCursor } from "./params";
import { deadRetried, deliveriesPage, deliveriesRequest, inboxPage, orphanedDelivery, replayAnswer, replayRangeRequest, retryDeadRefused, unknownHook } from "./queues";
import { alertsPage, alertsRequest } from "./alerts";
import { BAD_WA_ID, contactAnswer, erasedAnswer, notAPerson, ownNumbersAmong, RECENT } from "./contacts";
import { postgresContactStore } from "../store/postgres/contact-store";
import { postgresRequeue } from "../store/postgres/requeue-store";
import { erasePerson } from "../whatsapp/erase";
import { personId } from "../whatsapp/phone-mention";
import type { HookRoute } from "../config/schema";
import { hookFilter } from "../events/hook-filter";
import { eventAnswer, eventsPage, eventsRequest, isEventId } from "./events";
import { FALLBACK_OFF, message, ranJob, registered, resolved, resolveRefused, WORKER_OFF, type AdminOp } from "./ops";
import type { ClusterJobs } from "../sweeper/cluster-jobs";
import type { PostgresFallback } from "../sweeper/postgres-fallback";
import { statsAnswer, templatesAnswer } from "./stats";
import { dayRange, statsDaysAnswer } from "./stats-days";
import { DAY_MS } from "../domain/day-stats";
import { postgresDayReport } from "../store/postgres/day-report";
import { moveTargetError, orphanHookError } from "../domain/orphans";
import { replayTargets } from "../domain/replay";

export interface ScheduledJob {
  name: string;
  schedule: string;
}

/**
 * `routes()`: the hooks this instance runs now (a reload changes them); `liveHooks()`:
 * those live instances run (this one's included once it has recorded them); `jobs()` and
 * `fallback()`: the worker's scheduled jobs and SMS fallback (null: the worker is off, or
 * fallback is).
 */
export function postgresAdminOps(
  sql: SQL,
  jobs: () => ClusterJobs | null,
  routes: () => readonly HookRoute[],
  liveHooks: () => Promise<readonly string[]>,
  fallback: () => PostgresFallback | null,
) {
  const hooks = () => routes().map((h) => h.name);
  /** Hooks someone sends: this instance's, then the other live instances'. */
  const running = async () => [...new Set([...hooks(), ...(await liveHooks())])];
  const q = postgresAdminQueries(sql);
  const contacts = postgresContactStore(sql);
  const requeue = postgresRequeue(sql);
  const stream = postgresEventStream(sql);
  const days = postgresDayReport(sql);
  const answer = async (op: AdminOp, now: number): Promise<AdminAnswer> => {
    switch (op.op) {
      case "stats":
        return statsAnswer(await q.statsFigures(await running(), now), now);
      case "stats-days": {
        const range = dayRange(now, op.days);
        const [figures, run] = await Promise.all([days.since(range[0]! * DAY_MS), running()]);
        return statsDaysAnswer(figures, range, run);
      }
      case "events": {
        const request = eventsRequest(op.query);
        return "status" in request ? request : eventsPage(await q.eventsPage(request.filter, request.after, op.query.limit));
      }
      case "events-after":
        return ok(await stream.after(op.filter, op.after, op.limit, op.maxBytes));
      case "person-ids":
        return ok(await q.personIds(op.waId));
      case "event": {
        const row = isEventId(op.id) ? await q.event(op.id) : null;
        if (!row) return notFound(`no event ${op.id}`);
        const [inbox, deliveries] = await Promise.all([row.inbox_id === null ? null : q.inbox(row.inbox_id), q.deliveries(row.id)]);
        return eventAnswer(row, inbox, deliveries);
      }
      case "message": {
        const tracking = fallback();
        const [found, tracked] = await Promise.all([q.message(op.wamid), tracking?.read(op.wamid) ?? null]);
        return message(found, tracked ? { store: tracked } : null, op.wamid);
      }
      case "jobs":
        return ok({ jobs: await Promise.all((jobs()?.list() ?? []).map((j) => jobView(j))) });
      case "run-job": {
        const cluster = jobs();
        return cluster ? ranJob(await cluster.runNow(op.name), op.name, cluster.list().map((j) => j.name)) : WORKER_OFF;
      }
      case "register":
      case "resume":
      case "resolve":
        return tracking(op, now);
      case "templates": {
        const { rows, history } = await q.templates();
        return templatesAnswer(rows, history);
      }
      case "deliveries": {
        const [run, withDeliveries] = await Promise.all([running(), q.hooksWithDeliveries()]);
        const request = deliveriesRequest(op.query, run, withDeliveries);
        if ("status" in request) return request;
        return deliveriesPage(await q.deliveryList(request.names, request.states, request.before, op.query.limit + 1), op.query.limit, run);
      }
      case "inbox": {
        const before = rowCursor(op.query.cursor);
        if (before === "bad") return badRequest("cursor: not a cursor this API gave out");
        return inboxPage(await q.inboxRows(op.query.state, before, op.query.limit + 1), op.query.limit);
      }
      case "replay-event": {
        const wrongHook = unknownHook(routes(), op.hook);
        if (wrongHook) return wrongHook;
        // A named hook gets the event even if its filters exclude it: the operator asked for it.
        const targets = routes().filter((h) => op.hook === null || h.name === op.hook).map((h) => ({ name: h.name, wants: op.hook !== null ? () => true : hookFilter(h) }));
        const queued = isEventId(op.id) ? await q.replayEvent(op.id, (type, phone) => targets.filter((t) => t.wants(type, phone)).map((t) => t.name), now) : null;
        if (queued === null) return notFound(`no event ${op.id}`);
        return replayAnswer({ events: 1, queued, next: null });
      }
      case "replay": {
        const request = replayRangeRequest(op.body, now);
        if ("status" in request) return request;
        const hook = op.body.hook ?? null;
        const wrongHook = unknownHook(routes(), hook);
        if (wrongHook) return wrongHook;
        // A named hook gets the events even if its filters exclude them: the operator asked for it.
        const targets = replayTargets(routes(), { selection: request.selection, hook, force: hook !== null });
        return replayAnswer(await requeue.replayPage(request.selection, targets, request.page.after, request.page.limit, now));
      }
      case "orphans":
        return orphans(op.body, now);
      case "contact":
        return contact(op.waId);
      case "erase-contact":
        return erase(op.waId, now);
      case "alerts": {
        const request = alertsRequest(op.query);
        if ("status" in request) return request;
        return alertsPage(await q.alerts(request.filter, request.before, op.query.limit + 1), op.query.limit);
      }
      case "retry-delivery": {
        const hook = await q.deliveryHook(op.id);
        if (hook !== null && !(await running()).includes(hook)) return orphanedDelivery(op.id, hook);
        const r = await q.retryDelivery(op.id, now);
        if (r.retried) return ok({ id: op.id, state: "pending" });
        if (r.state === null) return notFound(`no delivery ${op.id}`);
        return conflict("not_dead", `delivery ${op.id} is ${r.state}; only dead or disabled deliveries are retried`);
      }
      case "retry-dead": {
        const [run, withDeliveries] = await Promise.all([running(), q.hooksWithDeliveries()]);
        return retryDeadRefused(op.hook, run, withDeliveries) ?? deadRetried(op.hook, await requeue.retryDead([op.hook], now));
      }
      case "reprocess": {
        const r = await q.reprocess(op.id);
        if (r.revived) return ok({ id: op.id, revived: 1 });
        if (r.state === null) return notFound(`no inbox row ${op.id}`);
        return conflict("not_dead", `inbox row ${op.id} is not dead (state: ${r.state})`);
      }
    }
  };
  /** What only SMS fallback answers: 409 while it is off, as on SQLite. */
  const tracking = async (op: Extract<AdminOp, { op: "register" | "resume" | "resolve" }>, now: number): Promise<AdminAnswer> => {
    const f = fallback();
    if (!f) return FALLBACK_OFF;
    switch (op.op) {
      case "register":
        return registered(await f.register(op.items, now), op.many);
      case "resume":
        await f.resume(now);
        return ok({ resumed: true });
      case "resolve": {
        const refused = resolveRefused(op.wamid, op.action, (await f.read(op.wamid)).get(op.wamid) ?? null, now);
        return refused ?? resolved(await f.resolve(op.wamid, op.action, now), op.wamid, op.action);
      }
    }
  };
  const orphans = async (body: Extract<AdminOp, { op: "orphans" }>["body"], now: number): Promise<AdminAnswer> => {
    const run = await running();
    const wrongTarget = moveTargetError(run, body);
    if (wrongTarget) return badRequest(wrongTarget);
    const hook = body.hook ?? null;
    const r = await requeue.resolveOrphans(run, hook, body, (found) => orphanHookError(run, found, hook), now);
    return "refused" in r ? badRequest(r.refused) : ok(r);
  };
  const contact = async (raw: string): Promise<AdminAnswer> => {
    const waId = personId(raw);
    if (waId === null) return badRequest(BAD_WA_ID);
    // By any id they had: the person, all their ids.
    const person = await contacts.identity(waId);
    if (!(await contacts.known(person.ids))) return notFound(`no contact ${waId}`);
    const [row, recent] = await Promise.all([contacts.get(person), contacts.recent(person.ids, RECENT)]);
    return contactAnswer(waId, person, row, recent);
  };
  const erase = async (raw: string, now: number): Promise<AdminAnswer> => {
    const waId = personId(raw);
    if (waId === null) return badRequest(BAD_WA_ID);
    const ids = (await contacts.identity(waId)).ids;
    const own = ownNumbersAmong(ids, await contacts.businessNumbers(ids));
    if (own.length > 0) return badRequest(notAPerson(waId, own));
    const erased = await contacts.erase(waId, (mentions) => (body) => erasePerson(body, mentions), now);
    // Nothing is given back to the file system nor emptied from the WAL here: PostgreSQL's vacuum reuses the space later.
    return erasedAnswer(waId, erased as Record<string, number> | null, { freed_pages: 0, wal_emptied: false });
  };
  const jobView = async (job: ScheduledJob) => {
    const { runs, failures, latest } = await q.jobRuns(job.name);
    return {
      name: job.name,
      schedule: job.schedule,
      running: latest !== null && latest.finished_at === null,
      last_started_at: isoOrNull(latest?.started_at ?? null),
      last_finished_at: isoOrNull(latest?.finished_at ?? null),
      last_result: latest?.result ? JSON.parse(latest.result) : null,
      last_error: latest?.error ?? null,
      runs,
      failures,
      next_run: new Cron(job.schedule, { paused: true }).nextRun()?.toISOString() ?? null,
      last_instance: latest?.instance ?? null,
    };
  };
  return async (op: AdminOp): Promise<AdminAnswer> => storageErrors(() => answer(op, Date.now()));
}

/** The live stream's cursor at the event a client last received (its Last-Event-ID): the hub's ResumeAt. */
export const postgresStreamResume = (sql: SQL) => {
  const stream = postgresEventStream(sql);
  return (eventId: string) => storageErrors(() => stream.resume(eventId));
};

/** A failure of the database is a StorageError (503), as on SQLite. */
async function storageErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw isStorageFailure(err) ? toStorageError(err) : err;
  }
}
