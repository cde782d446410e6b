/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com):
 * `v1,` + base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")), where key is the
 * base64-decoded part of a `whsec_` secret. Several active secrets (rotation)
 * give several signatures, space-separated; receivers accept any of them.
 */
export type Signer = (id: string, timestampSec: number, body: string) => Record<string, string>;

/** The headers of one delivery, signed with each active secret; the secrets' keys are decoded once, here. */
export function standardSigner(secrets: readonly string[]): Signer {
  const keys = secrets.map((secret) => Buffer.from(secret.slice("whsec_".length), "base64"));
  return (id, timestampSec, body) => {
    const message = `${id}.${timestampSec}.${body}`;
    return {
      "webhook-id": id,
      "webhook-timestamp": String(timestampSec),
      "webhook-signature": keys.map((key) => "v1," + new Bun.CryptoHasher("sha256", key).update(message).digest("base64")).join(" "),
    };
  };
}
