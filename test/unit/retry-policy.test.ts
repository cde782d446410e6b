/** A delivery's next attempt after an answer (forward/retry-policy.ts, pure): the schedule, its jitter, Retry-After and its cap. */
import { expect, test } from "bun:test";
import { decideDelivery, honouredRetryAfter, parseRetryAfter } from "../../src/forward/retry-policy";

const T0 = Date.parse("2026-11-23T12:00:00Z");
const HOUR = 3_600_000;
const HOOK_DEFAULT = [5_000, 300_000, 1_800_000, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR];
const noJitter = () => 0;
const wait = (status: number, retryAfterMs: number | null, attempt = 1, schedule = HOOK_DEFAULT, random = noJitter) => {
  const next = decideDelivery(attempt, { status, retryAfterMs }, schedule, T0, random);
  return next.state === "pending" ? next.nextAttemptAt - T0 : next.state;
};

test("Retry-After on 429 and 503 is honoured when longer than the jittered step; ignored on other answers", () => {
  expect(wait(429, 120_000)).toBe(120_000);
  expect(wait(503, 120_000)).toBe(120_000);
  expect(wait(500, 120_000)).toBe(0);
  expect(wait(429, 1_000, 4, HOOK_DEFAULT, () => 0.5)).toBe(HOUR); // the schedule's wait is longer: it stands
});

test("a Retry-After longer than the schedule's longest step waits that step: 999999 s is 10 h with the default schedule, not 11.6 days", () => {
  expect(wait(429, 999_999_000)).toBe(10 * HOUR);
  expect(wait(503, 999_999_000, 7)).toBe(10 * HOUR);
  expect(wait(429, 999_999_000, 1, [5_000, 60_000])).toBe(60_000); // a short schedule, a short cap
  expect(wait(429, 999_999_000, 3, [5_000, 60_000])).toBe("dead"); // and the schedule still ends it
  expect(wait(429, Number.MAX_SAFE_INTEGER)).toBe(10 * HOUR);
  expect(honouredRetryAfter(10 * HOUR + 1, HOOK_DEFAULT)).toBe(10 * HOUR);
  expect(honouredRetryAfter(10 * HOUR, HOOK_DEFAULT)).toBe(10 * HOUR);
});

test("an HTTP date far ahead is capped the same way", () => {
  const asked = parseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT", T0);
  expect(asked).toBeGreaterThan(100 * 365 * 24 * HOUR);
  expect(wait(503, asked)).toBe(10 * HOUR);
  expect(parseRetryAfter("120", T0)).toBe(120_000);
  expect(parseRetryAfter("soon", T0)).toBeNull();
  expect(parseRetryAfter(null, T0)).toBeNull();
});
