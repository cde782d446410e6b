/**
 * The admin API's operations, run in the writer thread (the only connection that
 * writes; reads there see every commit). The HTTP side (http/admin.ts) only parses,
 * authenticates and relays; answers are plain { status, body }.
 */
import type { Database } from "bun:sqlite";
import type { Sweeper } from "../sweeper/start";
import type { Jobs, RunResult } from "../sweeper/jobs";
import type { Registration, Tracker } from "../sweeper/tracker";
import { type FallbackSendRow, pastNotAfter, type TrackedRow } from "../domain/tracked";
import { jobStore } from "../store/job-store";
import type { TrackerStore, TrackingStore } from "../store/tracking-store";
import { messageStore, type InboundRecord, type OutboundRecord, type StatusRecord } from "../store/message-store";
import { isoOrNull } from "../util/time";
import type { z } from "zod";
import type { HookRoute } from "../config/schema";
import { eventQuery, type EventFilter } from "../store/event-query";
import { notFound, ok, type AdminAnswer } from "./answers";
import { eraseContact, getContact } from "./contacts";
import { envelopesAfter, getEvent, listEvents } from "./events";
import { listAlerts } from "./alerts";
import type { AlertsQuery, DeliveriesQuery, EventsQuery, InboxQuery, OrphansBody, ReplayBody } from "./params";
import { listDeliveries, listInbox, replayEvent, replayRange, reprocessInbox, resolveOrphaned, retryDeadOfHook, retryDelivery } from "./queues";
import { stats, templates } from "./stats";
import { statsDays } from "./stats-days";

export type { AdminAnswer };

export type AdminOp =
  | { op: "events"; query: EventsQuery }
  | { op: "event"; id: string }
  | { op: "events-after"; filter: EventFilter; after: string | null; limit: number; maxBytes: number }
  | { op: "person-ids"; waId: string }
  | { op: "deliveries"; query: DeliveriesQuery }
  | { op: "retry-delivery"; id: number }
  | { op: "retry-dead"; hook: string }
  | { op: "orphans"; body: z.infer<typeof OrphansBody> }
  | { op: "replay-event"; id: string; hook: string | null }
  | { op: "replay"; body: z.infer<typeof ReplayBody> }
  | { op: "inbox"; query: InboxQuery }
  | { op: "reprocess"; id: number }
  | { op: "contact"; waId: string }
  | { op: "erase-contact"; waId: string }
  | { op: "alerts"; query: AlertsQuery }
  | { op: "templates" }
  | { op: "stats" }
  | { op: "stats-days"; days: number }
  | { op: "register"; items: Registration[]; many: boolean }
  | { op: "message"; wamid: string }
  | { op: "jobs" }
  | { op: "run-job"; name: string }
  | { op: "resume" }
  | { op: "resolve"; wamid: string; action: "resend" | "mark-sent" };

export const WORKER_OFF: AdminAnswer = { status: 409, body: { error: "worker_disabled", reason: "no job runs while worker.enabled = false" } };
export const FALLBACK_OFF: AdminAnswer = { status: 409, body: { error: "fallback_disabled", reason: "fallback is off: set [fallback] enabled = true (and the worker on)" } };

export function adminOps(db: Database, sweeper: Sweeper | null, hooks: readonly HookRoute[]) {
  const tracker = sweeper?.tracker ?? null;
  const messages = messageStore(db);
  const jobs = jobStore(db);
  return (op: AdminOp, now: number): Promise<AdminAnswer> | AdminAnswer => {
    switch (op.op) {
      case "events":
        return listEvents(db, op.query);
      case "event":
        return getEvent(db, op.id);
      case "events-after":
        return ok(envelopesAfter(db, op.filter, op.after, op.limit, op.maxBytes));
      case "person-ids":
        return ok(eventQuery(db).personIds(op.waId));
      case "deliveries":
        return listDeliveries(db, hooks, op.query);
      case "retry-delivery":
        return retryDelivery(db, hooks, op.id, now);
      case "retry-dead":
        return retryDeadOfHook(db, hooks, op.hook, now);
      case "orphans":
        return resolveOrphaned(db, hooks, op.body, now);
      case "replay-event":
        return replayEvent(db, hooks, op.id, op.hook, now);
      case "replay":
        return replayRange(db, hooks, op.body, now);
      case "inbox":
        return listInbox(db, op.query);
      case "reprocess":
        return reprocessInbox(db, op.id);
      case "contact":
        return getContact(db, op.waId);
      case "erase-contact":
        return eraseContact(db, op.waId, now);
      case "alerts":
        return listAlerts(db, op.query);
      case "templates":
        return templates(db);
      case "stats":
        return stats(db, hooks.map((h) => h.name), now);
      case "stats-days":
        return statsDays(db, hooks.map((h) => h.name), op.days, now);
      case "message":
        return message(messages.find(op.wamid), tracker, op.wamid);
      case "jobs":
        return { status: 200, body: { jobs: sweeper?.jobs.list() ?? [] } };
      case "run-job":
        return sweeper ? runJob(sweeper.jobs, op.name) : WORKER_OFF;
    }
    if (!tracker) return FALLBACK_OFF;
    switch (op.op) {
      case "register":
        return register(db, tracker, op.items, op.many, now);
      case "resume":
        jobs.setHeld("stale", null);
        return { status: 200, body: { resumed: true } };
      case "resolve":
        return resolve(db, tracker, op.wamid, op.action, now);
    }
  };
}

function register(db: Database, tracker: Tracker, items: Registration[], many: boolean, now: number): AdminAnswer {
  return registered(db.transaction(() => items.map((item) => tracker.register(item, now))).immediate(), many);
}

/** POST /v1/outbound's answer: 201 when a registration made a row. */
export function registered(results: readonly { row: TrackedRow; created: boolean }[], many: boolean): AdminAnswer {
  const rows = results.map((r) => view(r.row));
  return { status: results.some((r) => r.created) ? 201 : 200, body: many ? { messages: rows } : rows[0] };
}

async function runJob(jobs: Jobs, name: string): Promise<AdminAnswer> {
  return ranJob(await jobs.run(name), name, jobs.names());
}

/** POST /v1/jobs/{name}/run's answer, on either engine. */
export function ranJob(run: RunResult, name: string, names: readonly string[]): AdminAnswer {
  if (run.ran) return { status: 200, body: run };
  if (run.reason === "no such job") return notFound(`no job named ${name}; the jobs are ${names.join(", ")}`);
  return { status: run.reason === "already running" ? 409 : 500, body: { error: "not_run", reason: run.reason } };
}

function resolve(db: Database, tracker: Tracker, wamid: string, action: "resend" | "mark-sent", now: number): AdminAnswer {
  const refused = resolveRefused(wamid, action, tracker.store.get(wamid) ?? null, now);
  if (refused) return refused;
  const done = db.transaction(() => resolveUnknown(tracker, wamid, action, now)).immediate();
  return resolved(done, wamid, action);
}

/**
 * A resend refused: past not_after the sender would refuse it anyway (never an SMS then):
 * say so now, not with a 200; and a message WhatsApp delivered needs no SMS more.
 */
export function resolveRefused(wamid: string, action: "resend" | "mark-sent", row: Pick<TrackedRow, "expires_at" | "delivered_at"> | null, now: number): AdminAnswer | null {
  if (action !== "resend" || !row) return null;
  if (row.delivered_at !== null) {
    return { status: 409, body: { error: "delivered", reason: `${wamid} was delivered on WhatsApp (${new Date(row.delivered_at).toISOString()}): it needs no SMS; mark-sent records one that went` } };
  }
  if (!pastNotAfter(row.expires_at, now)) return null;
  return { status: 409, body: { error: "past_not_after", reason: `${wamid} is past its not_after (${new Date(row.expires_at!).toISOString()}): no SMS may go now; mark-sent records one that did` } };
}

/** In the caller's transaction: an `unknown` SMS sent again (same Idempotency-Key) or recorded as sent. False when it is not `unknown`. */
export function resolveUnknown(tracker: Tracker<TrackerStore & Pick<TrackingStore, "resolveUnknown">>, wamid: string, action: "resend" | "mark-sent", now: number): boolean {
  const state = action === "resend" ? "pending" : "sent";
  if (!tracker.store.resolveUnknown(wamid, state, now)) return false;
  if (state === "sent") tracker.recordSend(wamid, "sent", now);
  tracker.store.note(wamid, now, { state: `resolved:${action}` });
  return true;
}

export function resolved(done: boolean, wamid: string, action: "resend" | "mark-sent"): AdminAnswer {
  if (done) return { status: 200, body: { wamid, action } };
  return { status: 409, body: { error: "not_unknown", reason: `${wamid} has no SMS whose outcome is unknown; only those can be resolved` } };
}

/**
 * The message with one timeline: Meta's statuses (message_statuses) and the sweeper's
 * moves (tracked_timeline), by the time we handled each; a status first on a tie.
 */
/** `tracker`: where the message's tracked row, SMS and moves are read (null: fallback is off). */
export function message(
  found: { outbound: OutboundRecord | null | undefined; inbound: InboundRecord | null | undefined; statuses: StatusRecord[] },
  tracker: { store: Pick<TrackerStore, "get" | "send" | "timeline"> } | null,
  wamid: string,
): AdminAnswer {
  const { outbound, inbound, statuses } = found;
  const tracked = tracker?.store.get(wamid) ?? null;
  if (!outbound && !inbound && !tracked) return { status: 404, body: { error: "not_found", reason: `no message ${wamid}` } };
  const fallback = tracked
    ? {
        ...view(tracked),
        sms: smsView(tracker!.store.send(wamid)),
        timeline: [
          ...statuses.map((s) => ({ state: s.status, at: s.received_at, source: "status", ...(s.errors ? { errors: parse(s.errors) } : {}) })),
          ...tracker!.store.timeline(wamid).map((t) => ({ state: t.state, at: t.at, source: "sweeper", ...(t.detail ? JSON.parse(t.detail) : {}) })),
        ]
          .sort((a, b) => a.at - b.at)
          .map((t) => ({ ...t, at: isoOrNull(t.at) })),
      }
    : null;
  return {
    status: 200,
    body: {
      wamid,
      direction: inbound ? "inbound" : "outbound",
      ...(outbound
        ? {
            status: outbound.status,
            errors: parse(outbound.errors),
            pricing: parse(outbound.pricing),
            phone_number_id: outbound.phone_number_id,
            recipient_id: outbound.recipient_id,
            biz_opaque_callback_data: outbound.biz_opaque_callback_data,
          }
        : {}),
      ...(inbound ? { inbound: { ...inbound, sent_at: isoOrNull(inbound.sent_at), received_at: isoOrNull(inbound.received_at) } } : {}),
      statuses: statuses.map((s) => ({ ...s, errors: parse(s.errors), pricing: parse(s.pricing), status_at: isoOrNull(s.status_at), received_at: isoOrNull(s.received_at) })),
      fallback,
    },
  };
}

/** A tracked row as the API shows it: times in ISO 8601. */
export function view(r: TrackedRow) {
  return {
    wamid: r.wamid,
    to: r.recipient,
    category: r.category,
    state: r.state,
    fallback: r.fallback,
    reason: r.reason,
    error_code: r.error_code,
    sent_at: isoOrNull(r.sent_at),
    registered_at: isoOrNull(r.registered_at),
    delivered_at: isoOrNull(r.delivered_at),
    deadline: isoOrNull(r.deadline),
    expires_at: isoOrNull(r.expires_at),
  };
}

/** The SMS row as the API shows it: no lease token, times in ISO 8601. */
function smsView(s: FallbackSendRow | null) {
  if (!s) return null;
  return {
    state: s.state,
    text: s.text,
    reason: s.reason,
    attempts: s.attempts,
    next_attempt_at: s.state === "pending" ? isoOrNull(s.next_attempt_at) : null,
    provider_status: s.provider_status,
    provider_response: s.provider_response,
    last_error: s.last_error,
    created_at: isoOrNull(s.created_at),
    sent_at: isoOrNull(s.sent_at),
  };
}

const parse = (text: string | null) => (text === null ? null : JSON.parse(text));
