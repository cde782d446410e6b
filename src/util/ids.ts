/** ULIDs (time-ordered, 26 Crockford base32 chars) and random lease tokens. */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export function ulid(nowMs: number, random: Uint8Array = crypto.getRandomValues(new Uint8Array(10))): string {
  let time = "";
  let t = nowMs;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  // 80 random bits → 16 chars of 5 bits: five bytes at a time (40 bits fit a double exactly).
  let rand = "";
  for (let half = 0; half < 10; half += 5) {
    let bits = 0;
    for (let i = half; i < half + 5; i++) bits = bits * 256 + random[i]!;
    let chars = "";
    for (let i = 0; i < 8; i++) {
      chars = ALPHABET[bits % 32] + chars;
      bits = Math.floor(bits / 32);
    }
    rand += chars;
  }
  return time + rand;
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
