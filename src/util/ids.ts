/** ULIDs (time-ordered, 26 Crockford base32 chars) and random lease tokens. */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export function ulid(nowMs: number, random: Uint8Array = crypto.getRandomValues(new Uint8Array(10))): string {
  return encodeTime(nowMs) + encodeRandom(random);
}

/** 48 bits of milliseconds → 10 chars, most significant first (per event: no string built backwards). */
function encodeTime(ms: number): string {
  const high = Math.floor(ms / 2 ** 25); // the top 23 bits (< 2^48 ms); the low 25 are 5 chars
  const low = ms % 2 ** 25;
  return (
    ALPHABET[Math.floor(high / 2 ** 20) % 32]! + ALPHABET[(high >> 15) & 31]! + ALPHABET[(high >> 10) & 31]! + ALPHABET[(high >> 5) & 31]! + ALPHABET[high & 31]! +
    ALPHABET[(low >> 20) & 31]! + ALPHABET[(low >> 15) & 31]! + ALPHABET[(low >> 10) & 31]! + ALPHABET[(low >> 5) & 31]! + ALPHABET[low & 31]!
  );
}

/** 80 random bits → 16 chars: each half of five bytes as two 20-bit words of four chars. */
function encodeRandom(r: Uint8Array): string {
  let out = "";
  for (let i = 0; i < 10; i += 5) {
    const hi = (r[i]! << 12) | (r[i + 1]! << 4) | (r[i + 2]! >> 4);
    const lo = ((r[i + 2]! & 0x0f) << 16) | (r[i + 3]! << 8) | r[i + 4]!;
    out += ALPHABET[hi >> 15]! + ALPHABET[(hi >> 10) & 31]! + ALPHABET[(hi >> 5) & 31]! + ALPHABET[hi & 31]!;
    out += ALPHABET[lo >> 15]! + ALPHABET[(lo >> 10) & 31]! + ALPHABET[(lo >> 5) & 31]! + ALPHABET[lo & 31]!;
  }
  return out;
}

/** A ULID's time (ms) and its 80 random bits: the inverse of `ulid`. */
export function decodeUlid(id: string): { ms: number; random: Uint8Array } {
  const value = (c: string) => ALPHABET.indexOf(c);
  let ms = 0;
  for (const c of id.slice(0, 10)) ms = ms * 32 + value(c);
  const random = new Uint8Array(10);
  for (let half = 0; half < 2; half++) {
    let bits = 0;
    for (const c of id.slice(10 + half * 8, 18 + half * 8)) bits = bits * 32 + value(c);
    for (let i = 4; i >= 0; i--) {
      random[half * 5 + i] = bits % 256;
      bits = Math.floor(bits / 256);
    }
  }
  return { ms, random };
}

/**
 * ULIDs that sort in the order they were made, also within one millisecond (or when
 * the clock steps back): the random part of the previous one plus one. Event ids
 * order history rows by arrival (state_history's key), so this must hold. `after`:
 * the newest id already made (by an earlier run), which every new one must follow.
 */
export function monotonicUlid(after: string | null = null): (nowMs: number) => string {
  const seed = after === null ? null : decodeUlid(after);
  let lastMs = seed?.ms ?? -1;
  let last: Uint8Array = seed?.random ?? new Uint8Array(10);
  return (nowMs) => {
    if (nowMs > lastMs) {
      lastMs = nowMs;
      last = crypto.getRandomValues(new Uint8Array(10));
    } else {
      last = increment(last);
    }
    return ulid(lastMs, last);
  };
}

function increment(bytes: Uint8Array): Uint8Array {
  const next = bytes.slice();
  for (let i = next.length - 1; i >= 0; i--) {
    next[i] = (next[i]! + 1) & 0xff;
    if (next[i] !== 0) return next;
  }
  return next; // 2^80 ids in one millisecond: wraps, never happens
}

/** The smallest event id made at `ms` or later: ids are `evt_` + a ULID, time first. */
export const eventIdFloor = (ms: number) => `evt_${ulid(ms, new Uint8Array(10))}`;

/**
 * Lease tokens carry the owner's instance name, so a restarted instance can take
 * back the leases its crashed predecessor held (see recoverLeases in the stores).
 */
export const leaseToken = (instance: string) => `${instance}:${crypto.randomUUID()}`;
