/**
 * The admin API (`/v1`): every route needs `Authorization: Bearer <admin.token>`,
 * compared in constant time. Routes only parse and relay: the work runs in the writer
 * thread (admin/ops.ts). Storage trouble is a 503, like everywhere else. Elysia has
 * already percent-decoded path parameters (a wamid's `/` or `+` arrives as %2F, %2B).
 */
import { Elysia } from "elysia";
import type { z } from "zod";
import { eventFilter, isEventId } from "../admin/events";
import { ENVELOPE_EXAMPLE, OUTBOUND_EXAMPLE, STATS_DAYS_EXAMPLE } from "../admin/examples";
import { firstProblem, OutboundBody, toRegistration, type OutboundItem } from "../admin/outbound";
import { AlertsQuery, DeliveriesQuery, EventReplayBody, EventsQuery, FallbackAction, InboxQuery, OrphansBody, ReplayBody, RetryDeadBody, StatsDaysQuery, StreamQuery } from "../admin/params";
import {
  AlertPage,
  Contact,
  ContactErased,
  DeadRetried,
  DeliveryPage,
  DeliveryRetried,
  EventDetail,
  EventPage,
  FallbackResolved,
  InboxPage,
  JobRun,
  OrphansResolved,
  Jobs,
  Message,
  Registered,
  ReplayResult,
  Reprocessed,
  Resumed,
  Stats,
  StatsDays,
  TemplatePage,
} from "../admin/responses";
import { operation } from "./openapi";
import { refuseUnlessBearer } from "./bearer";
import type { ClientOf } from "./client-address";
import { EventEnvelope } from "../events/envelope";
import { eventStream, STREAM_BATCH, STREAM_BEHIND_MS, STREAM_BUFFER_BYTES } from "./event-stream";
import { StreamHub, type ResumeAt } from "./stream-hub";
import { writerTurns } from "./writer-turns";
import type { AdminAnswer, AdminOp } from "../admin/ops";
import { InternalError, StorageError } from "../store/errors";
import type { Logger } from "../util/log";
import { json, notCached, problem, shortReason } from "./respond";
import { decodedPathOf } from "./url";
import type { StreamBatch } from "../store/event-query";

export interface AdminDeps {
  token: string;
  run(op: AdminOp): Promise<AdminAnswer>;
  log: Logger;
  /** Where a stream client resuming after an event (Last-Event-ID) stands; absent: the id itself (SQLite's cursors are event ids). */
  streamResumeAt?: ResumeAt;
}

export function adminRoutes(deps: AdminDeps, client: ClientOf) {
  const streamTurn = writerTurns();
  const hub = new StreamHub(async (filter, after, maxBytes) => {
    const answer = await streamTurn(() => deps.run({ op: "events-after", filter, after, limit: STREAM_BATCH, maxBytes }));
    return answer.body as StreamBatch;
  }, deps.streamResumeAt);
  const relay = async (op: AdminOp) => {
    try {
      const answer = await deps.run(op);
      // A 400 found on the writer thread (a cursor not ours, a malformed wa_id…): logged like those found here.
      if (answer.status === 400) {
        const body = answer.body as { error: string; reason: string };
        deps.log.warn("request rejected", { op: op.op, status: 400, reason: shortReason(body.reason) });
        return problem(400, body.error, body.reason);
      }
      return json(answer.status, answer.body);
    } catch (err) {
      if (err instanceof StorageError) return problem(503, "storage_unavailable", err.message);
      if (err instanceof InternalError) return problem(500, "internal_error", "unexpected server error"); // logged where it was thrown
      throw err;
    }
  };
  /** Query parameters through their zod schema; the first problem answers 400. */
  const withQuery =
    <S extends z.ZodType>(schema: S, then: (q: z.infer<S>, request: Request) => Promise<Response> | Response) =>
    ({ request }: { request: Request }) => {
      const parsed = schema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
      return parsed.success ? then(parsed.data, request) : refuse(request, firstProblem(parsed.error));
    };
  /** A JSON body through its zod schema (an empty body is {}). */
  const withBody =
    <S extends z.ZodType>(schema: S, then: (b: z.infer<S>) => Promise<Response> | Response) =>
    async ({ request }: { request: Request }) => {
      const text = await request.text();
      let body: unknown;
      try {
        body = text.trim() === "" ? {} : JSON.parse(text);
      } catch {
        return refuse(request, "body: not JSON");
      }
      const parsed = schema.safeParse(body);
      return parsed.success ? then(parsed.data) : refuse(request, firstProblem(parsed.error));
    };
  /** A request refused: the 400 names the field, and so does one log line. */
  const refuse = (request: Request, reason: string) => {
    deps.log.warn("request rejected", { method: request.method, path: decodedPathOf(request.url), status: 400, reason: shortReason(reason) });
    return problem(400, "bad_request", reason);
  };
  const rowId = (raw: string, what: string, then: (id: number) => Promise<Response>) =>
    /^[1-9][0-9]{0,15}$/.test(raw) ? then(Number(raw)) : problem(404, "not_found", `no ${what} ${raw}`);

  return new Elysia({ prefix: "/v1" })
    .onBeforeHandle(({ request, server }) => {
      const refused = refuseUnlessBearer(request, deps.token, "admin.token", deps.log, client(request, server));
      return refused ? notCached(refused) : undefined;
    })
    // Answers hold personal data (numbers, message texts): no browser or proxy keeps a copy
    // once the console's tab and its token are gone.
    .onAfterHandle({ as: "local" }, ({ response, set }) => {
      if (response instanceof Response) notCached(response);
      else set.headers["cache-control"] = "no-store";
    })
    .post(
      "/outbound",
      withBody(OutboundBody, (body) => {
        const many = Array.isArray(body);
        const items = (many ? body : [body]) as OutboundItem[];
        return relay({ op: "register", items: items.map(toRegistration), many });
      }),
      {
        parse: "none",
        detail: operation({
          tag: "fallback",
          summary: "Register messages just sent, for SMS fallback",
          description: "One object or an array of up to 1,000. 201 when any is new, 200 when all were known; fields given later fill gaps. docs/fallback.md.",
          body: OutboundBody,
          bodyExample: OUTBOUND_EXAMPLE,
          ok: Registered,
          created: true,
          errors: [400, 409],
        }),
      },
    )
    .post(
      "/outbound/:wamid/fallback",
      ({ params, request }) => withBody(FallbackAction, (b) => relay({ op: "resolve", wamid: params.wamid, action: b.action }))({ request }),
      {
        parse: "none",
        detail: operation({
          tag: "fallback",
          summary: "Settle an SMS whose outcome is unknown",
          description: "resend: send it again; mark-sent: the provider did send it. Only for an SMS in state unknown.",
          path: { wamid: "The WhatsApp message id" },
          body: FallbackAction,
          ok: FallbackResolved,
          errors: [400, 409],
        }),
      },
    )
    .get(
      "/events",
      withQuery(EventsQuery, (query) => relay({ op: "events", query })),
      { detail: operation({ tag: "events", summary: "List events, newest first", query: EventsQuery, ok: EventPage, okExample: { data: [ENVELOPE_EXAMPLE], next_cursor: null }, errors: [400] }) },
    )
    .get(
      "/events/stream",
      withQuery(StreamQuery, async (query, request) => {
        const filter = eventFilter(query);
        if (typeof filter === "string") return problem(400, "bad_request", filter);
        const lastId = request.headers.get("last-event-id");
        if (lastId !== null && !isEventId(lastId)) return problem(400, "bad_request", "Last-Event-ID: not an event id");
        // A person is followed under every id they have had, as a page finds them (ids linked later: at the next connection).
        if (filter.waId !== null) {
          try {
            filter.person = (await deps.run({ op: "person-ids", waId: filter.waId })).body as string[];
          } catch (err) {
            if (err instanceof StorageError) return problem(503, "storage_unavailable", err.message);
            throw err;
          }
        }
        return eventStream(lastId, filter, hub, request.signal, deps.log);
      }),
      {
        detail: operation({
          tag: "events",
          summary: "Follow new events (Server-Sent Events)",
          description: `One \`event\` per stored event, its id the SSE id; send \`Last-Event-ID\` to resume with no gap and no duplicate. Each message's data is an event envelope (the schema below). A client that leaves more than ${STREAM_BUFFER_BYTES / 2048} KiB unread for ${STREAM_BEHIND_MS / 1000} s gets a last \`dropped\` event (\`{"error":"too_slow","last_event_id":…}\`) and the stream ends: reconnect with that Last-Event-ID.`,
          query: StreamQuery,
          headers: { "Last-Event-ID": { description: "The id of the last event received (evt_…): the stream resumes right after it", pattern: "^evt_[0-9A-HJKMNP-TV-Z]{26}$", required: false } },
          ok: { eventStream: EventEnvelope },
          errors: [400],
        }),
      },
    )
    .get("/events/:id", ({ params }) => relay({ op: "event", id: params.id }), {
      detail: operation({ tag: "events", summary: "One event: its envelope, the webhook as received, its deliveries", path: { id: "An event id (evt_…)" }, ok: EventDetail, errors: [404] }),
    })
    .post(
      "/events/:id/replay",
      ({ params, request }) => withBody(EventReplayBody, (b) => relay({ op: "replay-event", id: params.id, hook: b.hook ?? null }))({ request }),
      {
        parse: "none",
        detail: operation({ tag: "events", summary: "Deliver one event again", path: { id: "An event id (evt_…)" }, body: EventReplayBody, ok: ReplayResult, errors: [400, 404] }),
      },
    )
    .post("/replay", withBody(ReplayBody, (body) => relay({ op: "replay", body })), {
      parse: "none",
      detail: operation({ tag: "events", summary: "Deliver again every event of a type and time range", body: ReplayBody, ok: ReplayResult, errors: [400] }),
    })
    .get("/deliveries", withQuery(DeliveriesQuery, (query) => relay({ op: "deliveries", query })), {
      detail: operation({ tag: "queues", summary: "List deliveries to hooks, newest first", query: DeliveriesQuery, ok: DeliveryPage, errors: [400] }),
    })
    .post("/deliveries/orphaned", withBody(OrphansBody, (body) => relay({ op: "orphans", body })), {
      parse: "none",
      detail: operation({
        tag: "queues",
        summary: "Cancel or move the deliveries of hooks the daemon no longer runs",
        description:
          "A hook removed from the config (or renamed) leaves its open deliveries orphaned: nothing sends them (GET /v1/deliveries?orphaned=true, /v1/stats). cancel: they become `cancelled`, finished like done (retention may then delete their events); move: each event is queued to hook `to` instead.",
        body: OrphansBody,
        bodyExample: { action: "move", hook: "crm", to: "app" },
        ok: OrphansResolved,
        errors: [400],
      }),
    })
    .post("/deliveries/retry", withBody(RetryDeadBody, (body) => relay({ op: "retry-dead", hook: body.hook })), {
      parse: "none",
      detail: operation({
        tag: "queues",
        summary: "Retry every dead delivery of a hook",
        description: "Each is due again now, from a fresh schedule (as `wa-webhookd retry-dead --hook`). 404: no hook by that name is run or has deliveries; 409: the hook is no longer run (orphaned: cancel or move its deliveries).",
        body: RetryDeadBody,
        bodyExample: { hook: "app" },
        ok: DeadRetried,
        okExample: { hook: "app", retried: 3 },
        errors: [400, 404, [409, "The hook is no longer run: nothing would send its deliveries"]],
      }),
    })
    .post("/deliveries/:id/retry", ({ params }) => rowId(params.id, "delivery", (id) => relay({ op: "retry-delivery", id })), {
      detail: operation({ tag: "queues", summary: "Retry a dead delivery", description: "409 if it is not dead, or if its hook is no longer run (orphaned).", path: { id: "A delivery id" }, ok: DeliveryRetried, errors: [404, 409] }),
    })
    .get("/inbox", withQuery(InboxQuery, (query) => relay({ op: "inbox", query })), {
      detail: operation({ tag: "queues", summary: "List webhooks by processing state (dead by default), newest first", query: InboxQuery, ok: InboxPage, errors: [400] }),
    })
    .post("/inbox/:id/reprocess", ({ params }) => rowId(params.id, "inbox row", (id) => relay({ op: "reprocess", id })), {
      detail: operation({ tag: "queues", summary: "Process a dead webhook again", path: { id: "An inbox row id" }, ok: Reprocessed, errors: [404, 409] }),
    })
    .get("/contacts/:wa_id", ({ params }) => relay({ op: "contact", waId: params.wa_id }), {
      detail: operation({ tag: "contacts", summary: "A person: profile, opt-out, last seen, recent messages", path: { wa_id: "Their WhatsApp id (phone number, digits, a leading + allowed) or business-scoped user id; any id they had finds them" }, ok: Contact, errors: [400, 404] }),
    })
    .delete("/contacts/:wa_id", async ({ params, request, server }) => {
      // Walking a large file takes seconds (about 5 s per GiB): no idle timeout while the answer is made.
      server?.timeout(request, 0);
      const answer = await relay({ op: "erase-contact", waId: params.wa_id });
      hub.forget(); // replies arrive in order: any batch read before the erasure is already in the window
      return answer;
    }, {
      detail: operation({
        tag: "contacts",
        summary: "Erase a person",
        description:
          "Their messages, statuses, events, deliveries, and every webhook body and event envelope that mentions their number in any shape or format (+1 (650) 555-1234 too): a webhook that also holds others is rewritten without the parts that mention them, one they cannot be cut out of is deleted whole. What it deletes is overwritten with zeros, free pages go back to the file system and the WAL is emptied. Answers the counts.",
        path: { wa_id: "Their WhatsApp id (phone number, digits, a leading + allowed) or business-scoped user id; any id they had finds them" },
        ok: ContactErased,
        errors: [400, 404],
      }),
    })
    .get("/templates", () => relay({ op: "templates" }), {
      detail: operation({ tag: "reports", summary: "Message templates: status, quality, category and their history", ok: TemplatePage }),
    })
    .get("/alerts", withQuery(AlertsQuery, (query) => relay({ op: "alerts", query })), {
      detail: operation({
        tag: "reports",
        summary: "List alerts, newest first",
        description: "Every alert raised, sent to [alerts] url or only recorded (without a url they are seen here and in the log).",
        query: AlertsQuery,
        ok: AlertPage,
        errors: [400],
      }),
    })
    .get("/stats", () => relay({ op: "stats" }), {
      detail: operation({ tag: "reports", summary: "Queues, lag, events, hooks, fallback, the delivery funnel and billable messages", ok: Stats }),
    })
    .get("/stats/days", withQuery(StatsDaysQuery, (query) => relay({ op: "stats-days", days: query.days })), {
      detail: operation({
        tag: "reports",
        summary: "Per UTC day: events, statuses, failures by code, billable messages, deliveries per hook, SMS outcomes",
        description:
          "The last `days` days, oldest first, ending today, every day present. Events, statuses, failures, billable messages and deliveries done are the per-minute counts, kept as long as storage.retention (at least 8 days); dead deliveries and SMS are counted by the day they reached that state.",
        query: StatsDaysQuery,
        ok: StatsDays,
        okExample: STATS_DAYS_EXAMPLE,
        errors: [400],
      }),
    })
    .get("/messages/:wamid", ({ params }) => relay({ op: "message", wamid: params.wamid }), {
      detail: operation({ tag: "fallback", summary: "One message: statuses, fallback state, SMS and timeline", path: { wamid: "The WhatsApp message id" }, ok: Message, errors: [404] }),
    })
    .get("/jobs", () => relay({ op: "jobs" }), { detail: operation({ tag: "jobs", summary: "The sweeper's jobs: schedule, last run, next run", ok: Jobs }) })
    .post("/jobs/stale/resume", () => relay({ op: "resume" }), {
      detail: operation({ tag: "jobs", summary: "Resume the stale sweep after it held itself", ok: Resumed, errors: [409] }),
    })
    .post("/jobs/:name/run", ({ params }) => relay({ op: "run-job", name: params.name }), {
      detail: operation({ tag: "jobs", summary: "Run a job now", path: { name: "stale, fallback, alerts or retention" }, ok: JobRun, errors: [404, 409] }),
    });
}
