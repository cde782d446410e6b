/**
 * The admin API (`/v1`): every route needs `Authorization: Bearer <admin.token>`,
 * compared in constant time. Routes only parse and relay: the work runs in the writer
 * thread (admin/ops.ts). Storage trouble is a 503, like everywhere else. Elysia has
 * already percent-decoded path parameters (a wamid's `/` or `+` arrives as %2F, %2B).
 */
import { Elysia } from "elysia";
import { firstProblem, OutboundBody, toRegistration } from "../admin/outbound";
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
    .get("/messages/:wamid", ({ params }) => relay({ op: "message", wamid: params.wamid }))
    .get("/jobs", () => relay({ op: "jobs" }))
    .post("/jobs/stale/resume", () => relay({ op: "resume" }))
    .post("/jobs/:name/run", ({ params }) => relay({ op: "run-job", name: params.name }));
}
