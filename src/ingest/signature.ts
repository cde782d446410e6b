/**
 * Meta's X-Hub-Signature-256: "sha256=" + hex(HMAC-SHA256(app_secret, raw body)).
 *
 * Always over the raw bytes as received: Meta escapes non-ASCII as \uXXXX, so a
 * body that was parsed and re-serialized never matches (see the golden vectors in
 * test/fixtures/signature-vectors.json).
 */
import { timingSafeEqual } from "node:crypto";

export type SignatureResult =
  | { ok: true; secretIndex: number }
  | { ok: false; reason: "missing" | "malformed" | "mismatch" };

const HEADER = /^sha256=([0-9a-fA-F]{64})$/;

/** Human wording for each failure, used in the 401 body and the log line. */
export const SIGNATURE_REASONS = {
  missing: "X-Hub-Signature-256 header is missing",
  malformed: 'X-Hub-Signature-256 must be "sha256=" followed by 64 hex digits',
  mismatch: "signature does not match any configured app secret",
} as const;

export function hubSignature(body: Uint8Array | string, secret: string | Uint8Array): string {
  return "sha256=" + new Bun.CryptoHasher("sha256", secret).update(body).digest("hex");
}

/**
 * Checks the header against every configured secret (several apps may be subscribed
 * to one WABA, and rotation needs two at once). Hex case is not significant.
 */
export function verifyHubSignature(
  body: Uint8Array,
  header: string | null | undefined,
  secrets: readonly Uint8Array[],
): SignatureResult {
  if (header === null || header === undefined || header === "") return { ok: false, reason: "missing" };
  const match = HEADER.exec(header.trim());
  if (!match) return { ok: false, reason: "malformed" };
  const given = Buffer.from(match[1]!, "hex");
  for (let i = 0; i < secrets.length; i++) {
    const expected = new Bun.CryptoHasher("sha256", secrets[i]!).update(body).digest();
    if (timingSafeEqual(expected, given)) return { ok: true, secretIndex: i };
  }
  return { ok: false, reason: "mismatch" };
}
