/** The cap on request bytes held at once (server.max_inflight_bytes), and URL parts read as text. */
import { expect, test } from "bun:test";
import { pathOf, queryOf } from "../../src/http/url";
import { InflightBudget } from "../../src/ingest/inflight";

test("leases take bytes up to the cap, and give them back on release", () => {
  const budget = new InflightBudget(100);
  const a = budget.lease();
  const b = budget.lease();
  expect(a.take(60)).toBe(true);
  expect(b.take(50)).toBe(false); // would pass the cap: nothing taken
  expect(b.take(40)).toBe(true);
  expect(b.take(1)).toBe(false);
  a.release();
  expect(b.take(60)).toBe(true);
  b.release();
  b.release(); // idempotent
  expect(budget.lease().take(100)).toBe(true);
});

test("a read that outlives its request keeps its bytes until it settles", async () => {
  const budget = new InflightBudget(100);
  const lease = budget.lease();
  lease.take(100);
  let settle = () => {};
  lease.holdUntil(new Promise<void>((r) => (settle = r)));
  lease.release();
  expect(budget.lease().take(1)).toBe(false);
  settle();
  await Bun.sleep(0);
  expect(budget.lease().take(100)).toBe(true);
});

test("path and query come from the URL text, whatever the Host", () => {
  expect(pathOf("http://[bad/webhook?a=1#x")).toBe("/webhook");
  expect(pathOf("http://h")).toBe("/");
  expect(queryOf("http://[bad/webhook?hub.mode=subscribe&hub.challenge=1%202#frag").get("hub.challenge")).toBe("1 2");
  expect([...queryOf("http://h/webhook").keys()]).toEqual([]);
});
