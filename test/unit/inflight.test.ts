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

test("bytes reserved before they arrive come from a quarter of the cap; once arrived they leave that quarter, still held", () => {
  const budget = new InflightBudget(400); // 100 for bytes not arrived yet
  const a = budget.lease();
  const b = budget.lease();
  expect(a.reserve(64)).toBe(true);
  expect(b.reserve(64)).toBe(false); // 128 ahead: past the quarter, nothing taken
  expect(b.take(300)).toBe(true); // bytes that arrived still have the rest of the cap
  expect(b.take(37)).toBe(false);
  b.release();
  a.arrived(); // a's 64 are still held, but no longer ahead
  const c = budget.lease();
  expect(c.reserve(100)).toBe(true);
  expect(budget.lease().take(400 - 64 - 100 + 1)).toBe(false);
  c.release();
  a.release();
  expect(budget.lease().take(400)).toBe(true);
});

test("declared bodies that never arrive cannot fill the cap: past its quarter a small body is counted as it arrives, and a real one is read", async () => {
  const budget = new InflightBudget(4096);
  const silent = () =>
    new Request("http://x/webhook", { method: "POST", headers: { "content-length": "100" }, duplex: "half", body: new ReadableStream<Uint8Array>({ start() {} }) });
  const idle = Array.from({ length: 40 }, () => readBoundedBody(silent(), { maxBytes: 1000, timeoutMs: 60_000, lease: budget.lease() }));
  await Bun.sleep(10);
  // 40 × 100 declared: 10 reserved ahead (a quarter of 4096), 30 waiting for bytes and holding none.
  const lease = budget.lease();
  expect(lease.take(4096 - 1000)).toBe(true);
  lease.release();
  const real = await readBoundedBody(new Request("http://x/webhook", { method: "POST", headers: { "content-length": "100" }, body: new Uint8Array(100) }), { maxBytes: 1000, timeoutMs: 1000, lease: budget.lease() });
  expect(real.ok && real.bytes.byteLength).toBe(100);
  void idle;
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

describe("readBoundedBody on declared lengths, over real HTTP", () => {
  /** A server reading bodies with `budget`; answers "ok N" or the reason. */
  function server(budget: InflightBudget) {
    return Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const lease = budget.lease();
        try {
          const r = await readBoundedBody(req, { maxBytes: 4 * 1024 * 1024, timeoutMs: 5_000, lease });
          return new Response(r.ok ? `ok ${r.bytes.byteLength}` : r.reason);
        } finally {
          lease.release();
        }
      },
    });
  }
  /** Raw sockets declaring `declared` bytes and sending `sent` of them, then stalling. */
  async function stalled(port: number, n: number, declared: number, sent: number) {
    const sockets = await Promise.all(
      Array.from({ length: n }, () =>
        Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {}, error() {} } }).then((s) => {
          s.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${declared}\r\n\r\n`);
          if (sent > 0) s.write(Buffer.alloc(sent, 120));
          return s;
        }),
      ),
    );
    await Bun.sleep(300);
    return sockets;
  }

  test("connections that declare megabytes and send nothing hold nothing: a real webhook still gets in", async () => {
    const budget = new InflightBudget(1024 * 1024);
    const s = server(budget);
    const sockets = await stalled(s.port!, 16, 1024 * 1024, 1);
    try {
      const answer = await fetch(`http://127.0.0.1:${s.port}/`, { method: "POST", body: "x".repeat(1000) });
      expect(await answer.text()).toBe("ok 1000");
    } finally {
      sockets.forEach((k) => k.end());
      s.stop(true);
    }
  });

  test("bytes that did arrive count: past the cap a small webhook is busy, and gets in once they are gone", async () => {
    const budget = new InflightBudget(1024 * 1024);
    const s = server(budget);
    const sockets = await stalled(s.port!, 1, 2 * 1024 * 1024, 1000 * 1024);
    try {
      const answer = await fetch(`http://127.0.0.1:${s.port}/`, { method: "POST", body: "x".repeat(30_000) });
      expect(await answer.text()).toBe("busy");
    } finally {
      sockets.forEach((k) => k.end());
    }
    await Bun.sleep(300);
    const after = await fetch(`http://127.0.0.1:${s.port}/`, { method: "POST", body: "x".repeat(30_000) });
    expect(await after.text()).toBe("ok 30000");
    s.stop(true);
  });
});
