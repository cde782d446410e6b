/** util/heap-trim.ts: garbage past the threshold is collected within a check, without waiting for JavaScriptCore's own schedule. */
import { expect, test } from "bun:test";
import { join } from "node:path";

test("a heap grown by more than 8 MB of garbage is collected within about a second", () => {
  // A fresh process: the test runner's heap is shaped by every file run before this one.
  const run = Bun.spawnSync([process.execPath, join(import.meta.dir, "../support/heap-trim-probe.ts")], { stderr: "inherit" });
  expect(run.exitCode).toBe(0);
  const { made, grown, after } = JSON.parse(run.stdout.toString().trim()) as { made: number; grown: number; after: number };
  expect(made).toBe(400_000);
  expect(grown).toBeGreaterThan(16 * 1024 * 1024);
  expect(after).toBeLessThan(4 * 1024 * 1024);
});
