/** The worker's share of the writer thread while webhooks arrive (worker/share.ts). */
import { expect, test } from "bun:test";
import { giveWayTo, JOB_SHARE, MAX_SHARE, MIN_SHARE, pauseAfter, SHARE_FULL_AT_MS, SHARE_GROWS_FROM_MS, workerShare } from "../../src/worker/share";

test("a tenth of the thread while the backlog is young, growing past the knee to four fifths", () => {
  expect(workerShare(0)).toBe(MIN_SHARE);
  expect(workerShare(-5)).toBe(MIN_SHARE);
  // A burst shorter than the knee never takes more of ingestion's thread.
  expect(workerShare(SHARE_GROWS_FROM_MS)).toBe(MIN_SHARE);
  expect(workerShare((SHARE_GROWS_FROM_MS + SHARE_FULL_AT_MS) / 2)).toBeCloseTo((MIN_SHARE + MAX_SHARE) / 2);
  expect(workerShare(SHARE_FULL_AT_MS)).toBe(MAX_SHARE);
  expect(workerShare(10 * SHARE_FULL_AT_MS)).toBe(MAX_SHARE);
  for (let age = 0; age < SHARE_FULL_AT_MS; age += 500) expect(workerShare(age + 500)).toBeGreaterThanOrEqual(workerShare(age));
});

test("the pause after a pass makes work / (work + pause) equal the share", () => {
  for (const share of [MIN_SHARE, 0.5, MAX_SHARE]) {
    const pause = pauseAfter(10, share);
    expect(10 / (10 + pause)).toBeCloseTo(share);
  }
  expect(pauseAfter(0, 0.5)).toBe(1); // never a busy spin
});

test("a job gives way after each step while webhooks arrive: a pause as long as the step (half the thread)", async () => {
  expect(JOB_SHARE).toBe(0.5);
  let arriving = true;
  const giveWay = giveWayTo(() => arriving);
  const t0 = performance.now();
  await giveWay(30);
  expect(performance.now() - t0).toBeGreaterThanOrEqual(29);
  // Nothing arriving: only a turn of the event loop (queued appends still go first).
  arriving = false;
  const first = await Promise.race([giveWay(30).then(() => "gave way"), Bun.sleep(25).then(() => "waited")]);
  expect(first).toBe("gave way");
});
