/**
 * The admin API (`/v1`): every route needs `Authorization: Bearer <admin.token>`,
 * compared in constant time. Routes only parse and relay: the work runs in the writer
 * thread (admin/ops.ts). Storage trouble is a 503, like everywhere else. Elysia has
 * already percent-decoded path parameters (a wamid's `/` or `+` arrives as %2F, %2B).
 */
import { Elysia } from "elysia";
import type { z } from "zod";
import { eventFilter, isEventId } from "../admin/events";
import { firstProblem, OutboundBody, toRegistration } from "../admin/outbound";
import { DeliveriesQuery, EventReplayBody, EventsQuery, InboxQuery, ReplayBody, StreamQuery } from "../admin/params";
import { eventStream, STREAM_BATCH } from "./event-stream";
import type { AdminAnswer, AdminOp } from "../admin/ops";
import { StorageError } from "../store/errors";
import { constantTimeEqual } from "../util/crypto";
import type { Logger } from "../util/log";
import { json, problem } from "./respond";
import { pathOf } from "./url";

export interface AdminDeps {
  token: string;
  run(op: AdminOp): Promise<AdminAnswer>;
  log: Logger;
}

export function adminRoutes(deps: AdminDeps) {
  const relay = async (op: AdminOp) => {
    try {
      const answer = await deps.run(op);
      return json(answer.status, answer.body);
    } catch (err) {
      if (err instanceof StorageError) return problem(503, "storage_unavailable", err.message);
      throw err;
    }
  };
  /** Query parameters through their zod schema; the first problem answers 400. */
  const withQuery =
    <S extends z.ZodType>(schema: S, then: (q: z.infer<S>, request: Request) => Promise<Response> | Response) =>
    ({ request }: { request: Request }) => {
      const parsed = schema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
      return parsed.success ? then(parsed.data, request) : problem(400, "bad_request", firstProblem(parsed.error));
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
        return problem(400, "bad_request", "body: not JSON");
      }
      const parsed = schema.safeParse(body);
      return parsed.success ? then(parsed.data) : problem(400, "bad_request", firstProblem(parsed.error));
    };
  const rowId = (raw: string, what: string, then: (id: number) => Promise<Response>) =>
    /^[1-9][0-9]{0,15}$/.test(raw) ? then(Number(raw)) : problem(404, "not_found", `no ${what} ${raw}`);

  return new Elysia({ prefix: "/v1" })
    .onBeforeHandle(({ request }) => {
      const header = request.headers.get("authorization") ?? "";
      const token = header.startsWith("Bearer ") ? header.slice(7) : "";
      if (!constantTimeEqual(token, deps.token)) {
        deps.log.warn("admin request refused", { path: pathOf(request.url), reason: header ? "wrong token" : "no bearer token" });
        return problem(401, "unauthorized", "send Authorization: Bearer <admin.token>", { "www-authenticate": "Bearer" });
      }
    })
    .post(
      "/outbound",
      async ({ request }) => {
        let body: unknown;
        try {
          body = JSON.parse(await request.text());
        } catch {
          return problem(400, "bad_request", "body: not JSON");
        }
        const parsed = OutboundBody.safeParse(body);
        if (!parsed.success) return problem(400, "bad_request", firstProblem(parsed.error));
        const many = Array.isArray(parsed.data);
        const items = (many ? parsed.data : [parsed.data]) as Exclude<typeof parsed.data, unknown[]>[];
        return relay({ op: "register", items: items.map(toRegistration), many });
      },
      { parse: "none" },
    )
    .post(
      "/outbound/:wamid/fallback",
      async ({ params, request }) => {
        const body = (await request.json().catch(() => null)) as { action?: unknown } | null;
        if (body?.action !== "resend" && body?.action !== "mark-sent") return problem(400, "bad_request", 'action: expected "resend" or "mark-sent"');
        return relay({ op: "resolve", wamid: params.wamid, action: body.action });
      },
      { parse: "none" },
    )
    .get("/events", withQuery(EventsQuery, (query) => relay({ op: "events", query })))
    .get(
      "/events/stream",
      withQuery(StreamQuery, (query, request) => {
        const filter = eventFilter(query);
        if (typeof filter === "string") return problem(400, "bad_request", filter);
        const lastId = request.headers.get("last-event-id");
        if (lastId !== null && !isEventId(lastId)) return problem(400, "bad_request", "Last-Event-ID: not an event id");
        return eventStream(lastId, (after) => deps.run({ op: "events-after", filter, after, limit: STREAM_BATCH }), request.signal);
      }),
    )
    .get("/events/:id", ({ params }) => relay({ op: "event", id: params.id }))
    .post("/events/:id/replay", ({ params, request }) => withBody(EventReplayBody, (b) => relay({ op: "replay-event", id: params.id, hook: b.hook ?? null }))({ request }), { parse: "none" })
    .post("/replay", withBody(ReplayBody, (body) => relay({ op: "replay", body })), { parse: "none" })
    .get("/deliveries", withQuery(DeliveriesQuery, (query) => relay({ op: "deliveries", query })))
    .post("/deliveries/:id/retry", ({ params }) => rowId(params.id, "delivery", (id) => relay({ op: "retry-delivery", id })))
    .get("/inbox", withQuery(InboxQuery, (query) => relay({ op: "inbox", query })))
    .post("/inbox/:id/reprocess", ({ params }) => rowId(params.id, "inbox row", (id) => relay({ op: "reprocess", id })))
    .get("/contacts/:wa_id", ({ params }) => relay({ op: "contact", waId: params.wa_id }))
    .delete("/contacts/:wa_id", ({ params }) => relay({ op: "erase-contact", waId: params.wa_id }))
    .get("/templates", () => relay({ op: "templates" }))
    .get("/stats", () => relay({ op: "stats" }))
    .get("/messages/:wamid", ({ params }) => relay({ op: "message", wamid: params.wamid }))
    .get("/jobs", () => relay({ op: "jobs" }))
    .post("/jobs/stale/resume", () => relay({ op: "resume" }))
    .post("/jobs/:name/run", ({ params }) => relay({ op: "run-job", name: params.name }));
}
