/**
 * The admin API's operations, run in the writer thread (the only connection that
 * writes; reads there see every commit). The HTTP side (http/admin.ts) only parses,
 * authenticates and relays; answers are plain { status, body }.
 */
import type { Database } from "bun:sqlite";
import type { Sweeper } from "../sweeper/start";
import type { Registration } from "../sweeper/tracker";
import type { TrackedRow } from "../sweeper/transitions";

export type AdminOp =
  | { op: "register"; items: Registration[]; many: boolean }
  | { op: "message"; wamid: string }
  | { op: "jobs" }
  | { op: "run-job"; name: string }
  | { op: "resume" }
  | { op: "resolve"; wamid: string; action: "resend" | "mark-sent" };

export interface AdminAnswer {
  status: number;
  body: unknown;
}

const FALLBACK_OFF: AdminAnswer = { status: 409, body: { error: "fallback_disabled", reason: "fallback is off: set [fallback] enabled = true (and the worker on)" } };

export async function runAdminOp(db: Database, sweeper: Sweeper | null, op: AdminOp, now: number): Promise<AdminAnswer> {
  switch (op.op) {
    case "message":
      return message(db, sweeper, op.wamid);
    case "jobs":
      return { status: 200, body: { jobs: sweeper?.jobs.list() ?? [] } };
  }
  if (!sweeper) return FALLBACK_OFF;
  switch (op.op) {
    case "register": {
      const results = db.transaction(() => op.items.map((item) => sweeper.tracker.register(item, now))).immediate();
      const rows = results.map((r) => view(r.row));
      const status = results.some((r) => r.created) ? 201 : 200;
      return { status, body: op.many ? { messages: rows } : rows[0] };
    }
    case "run-job": {
      const result = await sweeper.jobs.run(op.name);
      if (!result.ran) return { status: result.reason.startsWith("no job") ? 404 : 409, body: { error: "not_run", reason: result.reason } };
      return { status: 200, body: result };
    }
    case "resume":
      db.run("UPDATE job_runs SET held_since = NULL WHERE name = 'stale'");
      return { status: 200, body: { resumed: true } };
    case "resolve": {
      const state = op.action === "resend" ? "pending" : "sent";
      const done = db.transaction(() => {
        if (!sweeper.tracker.store.resolveUnknown(op.wamid, state, now)) return false;
        if (state === "sent") sweeper.tracker.recordSend(op.wamid, "sent", now);
        sweeper.tracker.store.note(op.wamid, `resolved:${op.action}`, now);
        return true;
      }).immediate();
      return done ? { status: 200, body: { wamid: op.wamid, action: op.action } } : { status: 409, body: { error: "not_unknown", reason: "only a fallback whose outcome is unknown can be resolved" } };
    }
  }
}

function message(db: Database, sweeper: Sweeper | null, wamid: string): AdminAnswer {
  const outbound = db.query("SELECT phone_number_id, recipient_id, status, status_at, errors, pricing, first_seen_at FROM outbound_messages WHERE wamid = ?").get(wamid) as Record<string, unknown> | null;
  const inbound = db.query("SELECT phone_number_id, kind, sent_at, received_at FROM inbound_messages WHERE wamid = ?").get(wamid) as Record<string, unknown> | null;
  const tracked = sweeper?.tracker.store.get(wamid) ?? null;
  if (!outbound && !inbound && !tracked) return { status: 404, body: { error: "not_found", reason: `no message ${wamid}` } };
  const statuses = db.query("SELECT status, status_at, errors, pricing, event_id, received_at FROM message_statuses WHERE wamid = ? ORDER BY id").all(wamid) as Record<string, unknown>[];
  return {
    status: 200,
    body: {
      wamid,
      direction: inbound ? "inbound" : "outbound",
      ...(outbound ? { status: outbound.status, errors: parse(outbound.errors), pricing: parse(outbound.pricing), phone_number_id: outbound.phone_number_id } : {}),
      ...(inbound ? { inbound } : {}),
      statuses: statuses.map((s) => ({ ...s, errors: parse(s.errors), pricing: parse(s.pricing), status_at: iso(s.status_at as number | null), received_at: iso(s.received_at as number) })),
      fallback: tracked ? { ...view(tracked), sms: sweeper!.tracker.store.send(wamid) ?? null, timeline: sweeper!.tracker.store.timeline(wamid).map((t) => ({ state: t.state, at: iso(t.at), ...(t.detail ? JSON.parse(t.detail) : {}) })) } : null,
    },
  };
}

/** A tracked row as the API shows it: times in ISO 8601. */
function view(r: TrackedRow) {
  return {
    wamid: r.wamid,
    to: r.recipient,
    category: r.category,
    state: r.state,
    fallback: r.fallback,
    reason: r.reason,
    error_code: r.error_code,
    sent_at: iso(r.sent_at),
    registered_at: iso(r.registered_at),
    delivered_at: iso(r.delivered_at),
    deadline: iso(r.deadline),
    expires_at: iso(r.expires_at),
  };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const parse = (text: unknown) => (typeof text === "string" ? JSON.parse(text) : null);
