/** The cap on request bytes held at once (server.max_inflight_bytes), and URL parts read as text. */
import { describe, expect, test } from "bun:test";
import { pathOf, queryOf } from "../../src/http/url";
import { readBoundedBody } from "../../src/ingest/body";
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

describe("readBoundedBody on a chunked body (no Content-Length)", () => {
  /** A request whose body arrives in `chunks`, then stalls forever if `stall`. */
  const chunked = (chunks: number[], stall = false) =>
    new Request("http://x/webhook", {
      method: "POST",
      duplex: "half",
      body: new ReadableStream<Uint8Array>({
        start(controller) {
          for (const n of chunks) controller.enqueue(new Uint8Array(n).fill(120));
          if (!stall) controller.close();
        },
      }),
    });
  const limits = (budget: InflightBudget, maxBytes = 1000, timeoutMs = 1000) => ({ maxBytes, timeoutMs, lease: budget.lease() });

  test("reads it whole within the limits, counting its bytes against the cap until released", async () => {
    const budget = new InflightBudget(1000);
    const l = limits(budget);
    const r = await readBoundedBody(chunked([300, 300]), l);
    expect(r.ok && r.bytes.byteLength).toBe(600);
    expect(budget.lease().take(401)).toBe(false);
    l.lease.release();
    expect(budget.lease().take(1000)).toBe(true);
  });

  test("past the in-flight cap mid-body: busy, nothing kept past release", async () => {
    const budget = new InflightBudget(500);
    const l = limits(budget);
    expect(await readBoundedBody(chunked([300, 300]), l)).toEqual({ ok: false, reason: "busy" });
    l.lease.release();
    expect(budget.lease().take(500)).toBe(true);
  });

  test("past max_body_bytes mid-body: too_large", async () => {
    expect(await readBoundedBody(chunked([600, 600]), limits(new InflightBudget(10_000)))).toEqual({ ok: false, reason: "too_large" });
  });

  test("a body that stalls: timeout at the deadline", async () => {
    expect(await readBoundedBody(chunked([10], true), limits(new InflightBudget(10_000), 1000, 50))).toEqual({ ok: false, reason: "timeout" });
  });
});
