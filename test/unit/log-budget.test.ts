/** At most N rejection lines per reason a minute, the rest counted and said once (util/log-budget.ts). */
import { expect, test } from "bun:test";
import { LogBudget } from "../../src/util/log-budget";

test("the first `limit` lines of a key in a window are written, the rest counted; the count is said once the window is over", () => {
  const budget = new LogBudget(2, 60_000);
  const t0 = 120_000;
  const writes = (key: string, at: number) => budget.admit(key, at).write;
  expect([writes("401 bad", t0), writes("401 bad", t0 + 1), writes("401 bad", t0 + 2), writes("401 bad", t0 + 3)]).toEqual([true, true, false, false]);
  expect(writes("413 big", t0 + 4)).toBe(true); // another key has its own allowance
  expect(budget.flush(t0 + 59_999)).toBeNull(); // the window is not over
  const next = budget.admit("401 bad", t0 + 60_000);
  expect(next).toEqual({ write: true, ended: { "401 bad": 2 } });
  expect(budget.flush(t0 + 120_000)).toBeNull(); // nothing left out in that window
});

test("a window that ends with no further line is said by flush, once", () => {
  const budget = new LogBudget(1, 1_000);
  budget.admit("k", 0);
  budget.admit("k", 1);
  budget.admit("k", 2);
  expect(budget.flush(1_500)).toEqual({ k: 2 });
  expect(budget.flush(1_600)).toBeNull();
});
