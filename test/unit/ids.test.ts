/** Event ids sort in the order they were made (state_history orders notices by them). */
import { expect, test } from "bun:test";
import { monotonicUlid, ulid } from "../../src/util/ids";

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
