/** ULIDs (time-ordered, 26 Crockford base32 chars) and random lease tokens. */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export function ulid(nowMs: number, random: Uint8Array = crypto.getRandomValues(new Uint8Array(10))): string {
  let time = "";
  let t = nowMs;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  // 80 random bits → 16 chars of 5 bits.
  let bits = 0n;
  for (const byte of random) bits = (bits << 8n) | BigInt(byte);
  let rand = "";
  for (let i = 0; i < 16; i++) {
    rand = ALPHABET[Number(bits & 31n)] + rand;
    bits >>= 5n;
  }
  return time + rand;
}

export const eventId = (nowMs: number) => `evt_${ulid(nowMs)}`;

/**
 * Lease tokens carry the owner's instance name, so a restarted instance can take
 * back the leases its crashed predecessor held (see recoverLeases in the stores).
 */
export const leaseToken = (instance: string) => `${instance}:${crypto.randomUUID()}`;
