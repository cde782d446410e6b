/**
 * Meta's GET verification handshake: `hub.mode=subscribe`, `hub.verify_token`,
 * `hub.challenge`. The challenge is echoed verbatim, never parsed as a number.
 */
import { constantTimeEqual } from "../util/crypto";

export type HandshakeResult =
  | { status: 200; challenge: string }
  | { status: 400 | 403; reason: string };

export function checkHandshake(params: URLSearchParams, verifyToken: string): HandshakeResult {
  const mode = params.get("hub.mode");
  const token = params.get("hub.verify_token");
  const challenge = params.get("hub.challenge");
  const missing = [
    mode === null && "hub.mode",
    token === null && "hub.verify_token",
    challenge === null && "hub.challenge",
  ].filter(Boolean);
  if (missing.length > 0) return { status: 400, reason: `missing query parameter ${missing.join(", ")}` };
  if (mode !== "subscribe") return { status: 403, reason: `hub.mode must be "subscribe"` };
  if (!constantTimeEqual(token!, verifyToken)) return { status: 403, reason: "hub.verify_token does not match" };
  return { status: 200, challenge: challenge! };
}
