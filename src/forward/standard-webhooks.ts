/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com):
 * `v1,` + base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")), where key is the
 * base64-decoded part of a `whsec_` secret. Several active secrets (rotation)
 * give several signatures, space-separated; receivers accept any of them.
 */
export function standardSignature(id: string, timestampSec: number, body: string, secrets: readonly string[]): string {
  const message = `${id}.${timestampSec}.${body}`;
  return secrets
    .map((secret) => "v1," + new Bun.CryptoHasher("sha256", Buffer.from(secret.slice("whsec_".length), "base64")).update(message).digest("base64"))
    .join(" ");
}

export function standardHeaders(id: string, timestampSec: number, body: string, secrets: readonly string[]): Record<string, string> {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSec),
    "webhook-signature": standardSignature(id, timestampSec, body, secrets),
  };
}
