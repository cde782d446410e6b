import { expect, test } from "bun:test";
import { sharedWhileRunning } from "../../src/util/in-flight";

test("callers during a run share its answer; a call after it settles runs again", async () => {
  let runs = 0;
  let release!: (v: number) => void;
  const probe = sharedWhileRunning(() => {
    runs++;
    return new Promise<number>((resolve) => (release = resolve));
  });
  const during = [probe(), probe(), probe()];
  release(7);
  expect(await Promise.all(during)).toEqual([7, 7, 7]);
  expect(runs).toBe(1);
  const after = probe();
  release(8);
  expect(await after).toBe(8);
  expect(runs).toBe(2);
});

test("a failure reaches every caller that shared it, and the next call runs afresh", async () => {
  let runs = 0;
  const probe = sharedWhileRunning(async () => {
    runs++;
    if (runs === 1) throw new Error("disk gone");
    return "ok";
  });
  const shared = [probe(), probe()];
  for (const p of shared) await expect(p).rejects.toThrow("disk gone");
  expect(runs).toBe(1);
  expect(await probe()).toBe("ok");
});
