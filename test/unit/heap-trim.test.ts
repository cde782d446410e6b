/** util/heap-trim.ts: garbage past the threshold is collected within a check, without waiting for JavaScriptCore's own schedule. */
import { heapSize } from "bun:jsc";
import { expect, test } from "bun:test";
import { trimHeap } from "../../src/util/heap-trim";

test("a heap grown by more than 8 MB of garbage is collected within about a second", async () => {
  Bun.gc(true);
  const before = heapSize();
  trimHeap();
  let garbage: unknown[] | null = Array.from({ length: 400_000 }, (_, i) => ({ i, s: `garbage ${i}` }));
  expect(garbage.length).toBe(400_000);
  garbage = null;
  const grown = heapSize();
  expect(grown - before).toBeGreaterThan(16 * 1024 * 1024);
  await Bun.sleep(1_300);
  expect(heapSize() - before).toBeLessThan(4 * 1024 * 1024);
});
