/** Event ids sort in the order they were made (state_history orders notices by them). */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { openDatabase } from "../../src/store/db";
import { eventIds } from "../../src/store/event-ids";
import { migrate } from "../../src/store/migrate";
import { decodeUlid, monotonicUlid, ulid } from "../../src/util/ids";
import { tempDir } from "../support/daemon";

test("a ULID starts with its time, so later milliseconds sort later", () => {
  const a = ulid(1_751_000_000_000);
  const b = ulid(1_751_000_000_001);
  expect(a).toHaveLength(26);
  expect(a < b).toBe(true);
});

test("monotonic ULIDs sort in creation order within one millisecond and when the clock steps back", () => {
  const next = monotonicUlid();
  const times = [5_000, 5_000, 5_000, 4_999, 5_000, 5_001, 5_001, 3_000];
  const ids = times.map((t) => next(t));
  expect(new Set(ids).size).toBe(ids.length);
  expect([...ids].sort()).toEqual(ids);
});

test("the random part carries into higher bytes", () => {
  const next = monotonicUlid();
  const ids = Array.from({ length: 600 }, () => next(7));
  expect([...ids].sort()).toEqual(ids);
});

test("the random part is the 80 bits in Crockford base32, most significant first", () => {
  // Vector checked against a BigInt encoding of the same bytes.
  expect(ulid(1_751_000_000_000, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))).toBe("01JYQVQ9G0041061050R3GG28A");
  expect(ulid(0, new Uint8Array(10).fill(0xff))).toBe("0000000000ZZZZZZZZZZZZZZZZ");
  expect(ulid(0, new Uint8Array(10))).toBe("0".repeat(26));
});

test("ulid agrees with a BigInt encoding of time and bytes for any input", () => {
  const reference = (ms: number, bytes: Uint8Array) => {
    const digits = (value: bigint, chars: number) => Array.from({ length: chars }, (_, i) => "0123456789ABCDEFGHJKMNPQRSTVWXYZ"[Number((value >> BigInt(5 * (chars - 1 - i))) & 31n)]).join("");
    return digits(BigInt(ms), 10) + digits(bytes.reduce((n, b) => (n << 8n) | BigInt(b), 0n), 16);
  };
  for (let i = 0; i < 2_000; i++) {
    const ms = Math.floor(Math.random() * 2 ** 48);
    const bytes = crypto.getRandomValues(new Uint8Array(10));
    expect(ulid(ms, bytes)).toBe(reference(ms, bytes));
  }
});

test("decodeUlid is the inverse of ulid", () => {
  const random = new Uint8Array([1, 2, 3, 4, 5, 250, 251, 252, 253, 254]);
  const id = ulid(1_751_000_000_123, random);
  expect(decodeUlid(id)).toEqual({ ms: 1_751_000_000_123, random });
});

test("a generator seeded with the newest id follows it, even when the clock is behind it", () => {
  const newest = ulid(9_000, new Uint8Array(10).fill(7));
  const next = monotonicUlid(newest);
  const ids = [next(1_000), next(9_000), next(9_001)];
  expect(ids.every((id) => id > newest)).toBe(true);
  expect([...ids].sort()).toEqual(ids);
});

test("event ids of a database keep growing across a restart whose clock stepped back", () => {
  const path = join(tempDir(), "ids.db");
  const first = openDatabase(path, { synchronous: "normal", busyTimeoutMs: 100, autoCheckpoint: true });
  migrate(first);
  const later = eventIds(first)(Date.parse("2026-11-24T12:00:00Z"));
  first.run("INSERT INTO events (id, type, received_at, dedup_key, envelope) VALUES (?, 'message.received', 0, 'k', '{}')", [later]);
  first.close();
  const restarted = openDatabase(path, { synchronous: "normal", busyTimeoutMs: 100, autoCheckpoint: true });
  const afterRestart = eventIds(restarted)(Date.parse("2026-11-24T11:00:00Z")); // an hour earlier
  restarted.close();
  expect(afterRestart > later).toBe(true);
});
