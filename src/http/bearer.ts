/** Bearer-token checks of the admin API and /metrics: constant-time, one 401 shape, one log line. */
import { constantTimeEqual } from "../util/crypto";
import type { Logger } from "../util/log";
import { problem } from "./respond";
import { pathOf } from "./url";

/** null when the request carries `Authorization: Bearer <token>`; otherwise the 401 to answer. */
export function refuseUnlessBearer(request: Request, token: string, tokenKey: string, log: Logger): Response | null {
  const header = request.headers.get("authorization") ?? "";
  if (constantTimeEqual(header.startsWith("Bearer ") ? header.slice(7) : "", token)) return null;
  log.warn("request refused", { path: pathOf(request.url), reason: header ? "wrong token" : "no bearer token" });
  return problem(401, "unauthorized", `send Authorization: Bearer <${tokenKey}>`, { "www-authenticate": "Bearer" });
}
