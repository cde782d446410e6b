/**
 * The admin API on the PostgreSQL engine: what it answers in this release (events,
 * one event, the live stream's batches, one message, stats, templates, the scheduled jobs
 * and which instance ran them, the delivery and inbox lists, retrying a dead delivery,
 * reprocessing a dead webhook), with the same answers as on SQLite; every other route
 * answers 501, naming itself. Storage
 * trouble is a StorageError (the route answers 503), as on SQLite.
 */
import type { SQL } from "bun";
import { Cron } from "croner";
import { isStorageFailure, toStorageError } from "../store/errors";
import { postgresAdminQueries } from "../store/postgres/admin-queries";
import { postgresEventStream } from "../store/postgres/event-stream";
import { isoOrNull } from "../util/time";
import { badRequest, conflict, notFound, ok, type AdminAnswer } from "./answers";
import { rowCursor } from "./params";
import { deliveriesPage, deliveriesRequest, inboxPage, replayAnswer, unknownHook } from "./queues";
import type { HookRoute } from "../config/schema";
import { hookFilter } from "../forward/hook-filter";
import { eventAnswer, eventsPage, eventsRequest, isEventId } from "./events";
import { message, type AdminOp } from "./ops";
import { statsAnswer, templatesAnswer } from "./stats";

export interface ScheduledJob {
  name: string;
  schedule: string;
}

/** `routes()`: the hooks the instance runs now (a reload changes them). */
export function postgresAdminOps(sql: SQL, jobs: () => readonly ScheduledJob[], routes: () => readonly HookRoute[]) {
  const hooks = () => routes().map((h) => h.name);
  const q = postgresAdminQueries(sql);
  const stream = postgresEventStream(sql);
  const answer = async (op: AdminOp, now: number): Promise<AdminAnswer> => {
    switch (op.op) {
      case "stats":
        return statsAnswer(await q.statsFigures(hooks(), now), now);
      case "events": {
        const request = eventsRequest(op.query);
        return "status" in request ? request : eventsPage(await q.eventsPage(request.filter, request.after, op.query.limit));
      }
      case "events-after":
        return ok(await stream.after(op.filter, op.after, op.limit, op.maxBytes));
      case "event": {
        const row = isEventId(op.id) ? await q.event(op.id) : null;
        if (!row) return notFound(`no event ${op.id}`);
        const [inbox, deliveries] = await Promise.all([row.inbox_id === null ? null : q.inbox(row.inbox_id), q.deliveries(row.id)]);
        return eventAnswer(row, inbox, deliveries);
      }
      case "message":
        return message(await q.message(op.wamid), null, op.wamid);
      case "jobs":
        return ok({ jobs: await Promise.all(jobs().map((j) => jobView(j))) });
      case "templates": {
        const { rows, history } = await q.templates();
        return templatesAnswer(rows, history);
      }
      case "deliveries": {
        const running = hooks();
        const request = deliveriesRequest(op.query, running, await q.hooksWithDeliveries());
        if ("status" in request) return request;
        return deliveriesPage(await q.deliveryList(request.names, request.states, request.before, op.query.limit + 1), op.query.limit, running);
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
      case "retry-delivery": {
        const hook = await q.deliveryHook(op.id);
        if (hook !== null && !hooks().includes(hook)) {
          return conflict("orphaned", `delivery ${op.id} belongs to hook "${hook}", which the daemon no longer runs; moving orphans is not available with storage.engine = "postgres" in this release`);
        }
        const r = await q.retryDelivery(op.id, now);
        if (r.retried) return ok({ id: op.id, state: "pending" });
        if (r.state === null) return notFound(`no delivery ${op.id}`);
        return conflict("not_dead", `delivery ${op.id} is ${r.state}; only dead deliveries (or those of a disabled hook) are retried`);
      }
      case "reprocess": {
        const r = await q.reprocess(op.id);
        if (r.revived) return ok({ id: op.id, revived: 1 });
        if (r.state === null) return notFound(`no inbox row ${op.id}`);
        return conflict("not_dead", `inbox row ${op.id} is not dead (state: ${r.state})`);
      }
      default:
        return notOnPostgres(op.op);
    }
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

const notOnPostgres = (op: string): AdminAnswer => ({
  status: 501,
  body: { error: "not_implemented", reason: `${op}: not available with storage.engine = "postgres" in this release; on this engine /v1 answers events, one event, the live stream, one message, stats, templates, the jobs, replaying one event, the delivery and inbox lists, retrying a dead delivery and reprocessing a dead webhook` },
});
