/** Bearer-token checks of the admin API and /metrics: constant-time, one 401 shape, one log line. */
import { constantTimeEqual } from "../util/crypto";
import type { Logger } from "../util/log";
import { rateLimited } from "../util/log-budget";
import { problem } from "./respond";
import { decodedPathOf } from "./url";

/** The scheme is case-insensitive (RFC 9110 §11.1): `bearer`, `BEARER` and `Bearer` are one. */
const BEARER = /^bearer +/i;

/** null when the request carries `Authorization: Bearer <token>`; otherwise the 401 to answer. `remote`: the client, for the log line (fail2ban and the like read it). */
export function refuseUnlessBearer(request: Request, token: string, tokenKey: string, log: Logger, remote: string | null): Response | null {
  const header = request.headers.get("authorization") ?? "";
  const scheme = BEARER.exec(header);
  if (constantTimeEqual(scheme ? header.slice(scheme[0].length) : "", token)) return null;
  // Anyone can send these: a flood of them must not bury the lines that matter.
  const reason = !header ? "no bearer token" : scheme ? "wrong token" : "no Bearer scheme";
  rateLimited(log).warn(`401 ${reason}`, "request refused", { path: decodedPathOf(request.url), reason, remote });
  return problem(401, "unauthorized", `send Authorization: Bearer <${tokenKey}>`, { "www-authenticate": "Bearer" });
}
