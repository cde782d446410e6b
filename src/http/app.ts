/** Assembles the Elysia app from its route groups. */
import { rateLimited } from "../util/log-budget";
import { Elysia } from "elysia";
import type { HealthStore } from "../store/types";
import type { Logger } from "../util/log";
import { adminRoutes, type AdminDeps } from "./admin";
import { docsRoutes } from "./docs";
import { consoleRoutes } from "./console";
import { metricsRoutes, type MetricsDeps } from "./metrics";
import { healthRoutes } from "./health";
import { notCached, problem } from "./respond";
import { decodedPathOf, pathOf } from "./url";
import { webhookRoutes, type WebhookDeps } from "./webhook";
import { refuseUnlessBearer } from "./bearer";
import { clientOf } from "./client-address";

export interface AppDeps {
  webhook: WebhookDeps;
  /** Seconds a connection may sit without sending or receiving a byte (server.idle_timeout). */
  idleTimeoutSec: number;
  health: HealthStore;
  admin: AdminDeps;
  /** Serve the API reference at /docs ([admin] docs). */
  docs: boolean;
  /** Serve the operator console at /console ([admin] console). */
  console: boolean;
  metrics: MetricsDeps;
  log: Logger;
}

export function createApp(deps: AppDeps) {
  const client = clientOf(deps.webhook.trustedProxy);
  return new Elysia({
    // Elysia finds the path past the 11th character of the URL by default ("http://a.bc"):
    // with a 1-3 character Host header it dropped the path's first segment, so
    // /anything/metrics answered as /metrics and a path allow-list in front could be passed.
    handler: { standardHostname: false },
    serve: {
      // Elysia defaults to SO_REUSEPORT: a second daemon would then share the port
      // silently instead of failing to start.
      reusePort: false,
      development: false,
      // Our own limit (server.max_body_bytes) answers first, with a log line; this is the backstop.
      maxRequestBodySize: deps.webhook.maxBodyBytes * 2 + 1024 * 1024,
      idleTimeout: deps.idleTimeoutSec,
    },
  })
    // A malformed Host header makes request.url unparseable; refuse it here, as one clear answer.
    .onRequest(({ request }) => {
      if (URL.canParse(request.url)) return;
      rateLimited(deps.log).warn("400 malformed Host header", "request rejected", { method: request.method, status: 400, reason: "malformed Host header" });
      return problem(400, "bad_request", "malformed Host header");
    })
    .onError(({ code, error, request, server }) => {
      if (code === "NOT_FOUND") {
        // Under /v1 only the token holder learns which routes exist.
        const admin = pathOf(request.url).startsWith("/v1/");
        const refused = admin ? refuseUnlessBearer(request, deps.admin.token, "admin.token", deps.log, client(request, server)) : null;
        if (refused) return notCached(refused);
        // A POST nowhere is most likely Meta's callback URL set to the wrong path: say so where the operator looks.
        if (request.method === "POST") rateLimited(deps.log).warn("404 POST", "request rejected", { method: "POST", status: 404, path: decodedPathOf(request.url), reason: "no route: is Meta's callback URL server.webhook_path?" });
        // Under /v1 as every admin answer: its path may hold a person's number.
        const missing = problem(404, "not_found", `no route for ${request.method} ${pathOf(request.url)}`);
        return admin ? notCached(missing) : missing;
      }
      deps.log.error("unhandled error", { code, error, path: decodedPathOf(request.url) });
      // 500, not 4xx: if this was a webhook, Meta must retry it.
      return problem(500, "internal_error", "unexpected server error");
    })
    .use(deps.docs ? docsRoutes() : new Elysia())
    .use(deps.console ? consoleRoutes() : new Elysia())
    .use(healthRoutes(deps.health))
    .use(metricsRoutes(deps.metrics, client))
    .use(adminRoutes(deps.admin, client))
    .use(webhookRoutes(deps.webhook, client));
}
