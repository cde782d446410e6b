/** Deliveries to real local HTTP hooks; signatures checked by the standardwebhooks package. */
import { sqliteDispatch } from "../../src/store/dispatch-engine";
import { afterEach, describe, expect, test } from "bun:test";
import { Webhook } from "standardwebhooks";
import type { EventSelection } from "../../src/domain/selection";
import { Dispatcher } from "../../src/forward/dispatcher";
import { fixture, hook, pipeline, quiet, WHSEC } from "../support/pipeline";
import { closedPort, Sink } from "../support/sink";
import { replayEvents, retryDeadDeliveries } from "../../src/store/requeue-store";
import type { ReplayRequest } from "../../src/domain/replay";
import { createLogger } from "../../src/util/log";

const sinks: Sink[] = [];
const sink = (port = 0) => {
  const s = new Sink().start(port);
  sinks.push(s);
  return s;
};
afterEach(() => sinks.splice(0).forEach((s) => s.stop()));

const HOUR = 3_600_000;

/** A sink that takes `ms` to answer each request. */
const slowSink = (ms: number) => {
  const s = sink();
  s.respond = async () => {
    await Bun.sleep(ms);
    return new Response("ok");
  };
  return s;
};

/** `n` distinct text messages, processed into events and deliveries. */
const messages = async (p: ReturnType<typeof pipeline>, n: number, tag: string) => {
  for (let i = 0; i < n; i++) p.post(JSON.parse(JSON.stringify(fixture("message_text").payload).replace("wamid.TEXT", `wamid.${tag}${i}`)));
  await p.processor.runOnce();
};

const replayOf = (selection: Partial<EventSelection>, hookName: string | null = null, force = false): ReplayRequest => ({
  selection: { eventId: null, type: null, since: null, until: null, ...selection },
  hook: hookName,
  force,
});

describe("Dispatcher", () => {
  test("delivers the envelope signed per Standard Webhooks (verified by the official package)", async () => {
    const s = sink();
    const p = pipeline([hook({ name: "app", url: s.url })]);
    p.clock.t = Date.now(); // the verifier checks the timestamp against real time
    p.post(fixture("message_text").payload);
    await p.processor.runOnce();
    await p.dispatcher.drain();
    expect(s.received).toHaveLength(1);
    const { headers, body } = s.received[0]!;
    const verified = new Webhook(WHSEC).verify(body, headers) as { id: string; type: string };
    expect(verified.type).toBe("message.received");
    expect(headers["webhook-id"]).toBe(verified.id);
    expect(headers["content-type"]).toBe("application/json");
    expect(p.db.query("SELECT state, attempts, last_status FROM deliveries").get()).toEqual({ state: "done", attempts: 1, last_status: 200 });
  });

  test("several active secrets → space-separated signatures, each verifiable", async () => {
    const s = sink();
    const old = `whsec_${Buffer.alloc(24, 1).toString("base64")}`;
    const p = pipeline([hook({ name: "app", url: s.url, secret: undefined, secrets: [old, WHSEC] })]);
    p.clock.t = Date.now();
    p.post(fixture("message_text").payload);
    await p.processor.runOnce();
    await p.dispatcher.drain();
    const { headers, body } = s.received[0]!;
    expect(headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    for (const secret of [old, WHSEC]) expect(() => new Webhook(secret).verify(body, headers)).not.toThrow();
  });

  test("hook down, then up → delivered with the same webhook-id", async () => {
    const port = closedPort();
    const p = pipeline([hook({ name: "app", url: `http://127.0.0.1:${port}/hook` })]);
    p.post(fixture("message_text").payload);
    await p.processor.runOnce();
    await p.dispatcher.drain();
    const after1 = p.db.query("SELECT state, attempts, last_error FROM deliveries").get() as { state: string; attempts: number; last_error: string };
    expect(after1.state).toBe("pending");
    expect(after1.attempts).toBe(1);
    const eventId = (p.db.query("SELECT id FROM events").get() as { id: string }).id;

    const s = sink(port);
    p.clock.advance(5_000); // first step of the schedule (jitter pinned to its maximum)
    await p.dispatcher.drain();
    expect(s.received.map((r) => r.headers["webhook-id"])).toEqual([eventId]);
    expect(p.db.query("SELECT state, attempts FROM deliveries").get()).toEqual({ state: "done", attempts: 2 });
  });

  test("500 forever → dead after the whole schedule, with last status and a truncated body", async () => {
    const s = sink();
    s.respond = () => new Response("boom ".repeat(1000), { status: 500 });
    const p = pipeline([hook({ name: "app", url: s.url })]);
    p.post(fixture("message_text").payload);
    await p.processor.runOnce();
    for (let i = 0; i < 20; i++) {
      await p.dispatcher.drain();
      p.clock.advance(10 * HOUR);
    }
    expect(s.received).toHaveLength(8); // first try + 7 retries of the default schedule
    expect(new Set(s.received.map((r) => r.headers["webhook-id"])).size).toBe(1);
    const row = p.db.query("SELECT state, attempts, last_status, last_error, length(last_response) AS len FROM deliveries").get();
    expect(row).toEqual({ state: "dead", attempts: 8, last_status: 500, last_error: "HTTP 500", len: 1024 });
  });

  test("the default schedule is 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (full jitter: at most that)", async () => {
    const s = sink();
    s.respond = () => new Response("no", { status: 503 });
    const p = pipeline([hook({ name: "app", url: s.url })]);
    p.post(fixture("message_text").payload);
    await p.processor.runOnce();
    const waits: number[] = [];
    for (const step of [5_000, 300_000, 1_800_000, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR]) {
      await p.dispatcher.drain();
      const due = (p.db.query("SELECT next_attempt_at AS t FROM deliveries").get() as { t: number }).t;
      waits.push(due - p.clock.now());
      p.clock.advance(step);
    }
    expect(waits).toEqual([5_000, 300_000, 1_800_000, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR]);
  });

  test("Retry-After: 999999 waits the hook's longest retry_schedule step (10 h by default), not 11.6 days", async () => {
    const s = sink();
    s.respond = () => new Response("slow down", { status: 429, headers: { "retry-after": "999999" } });
    const p = pipeline([hook({ name: "app", url: s.url })]);
    p.post(fixture("message_text").payload);
    await p.processor.runOnce();
    await p.dispatcher.drain();
    const row = p.db.query("SELECT state, attempts, last_status, next_attempt_at - ? AS wait FROM deliveries").get(p.clock.now());
    expect(row).toEqual({ state: "pending", attempts: 1, last_status: 429, wait: 10 * HOUR });
    p.clock.advance(10 * HOUR - 1);
    await p.dispatcher.drain();
    expect(s.received).toHaveLength(1);
    p.clock.advance(1);
    await p.dispatcher.drain();
    expect(s.received).toHaveLength(2);
  });

  test("Retry-After on 429 is honoured; 410 disables; redirects are not followed", async () => {
    const s = sink();
    let answer: Response = new Response("slow down", { status: 429, headers: { "retry-after": "120" } });
    s.respond = () => answer;
    const p = pipeline([hook({ name: "app", url: s.url })]);
    p.post(fixture("message_text").payload);
    await p.processor.runOnce();
    await p.dispatcher.drain();
    const due = (p.db.query("SELECT next_attempt_at AS t FROM deliveries").get() as { t: number }).t;
    expect(due - p.clock.now()).toBe(120_000);

    answer = new Response(null, { status: 302, headers: { location: "http://127.0.0.1:1/elsewhere" } });
    p.clock.advance(120_000);
    await p.dispatcher.drain();
    expect(p.db.query("SELECT state, last_status FROM deliveries").get()).toEqual({ state: "pending", last_status: 302 });
    expect(s.received).toHaveLength(2);

    answer = new Response("gone", { status: 410 });
    p.clock.advance(HOUR);
    await p.dispatcher.drain();
    expect(p.db.query("SELECT state, last_status FROM deliveries").get()).toEqual({ state: "disabled", last_status: 410 });
  });

  test("a hook answering 410 to every event: each delivery disabled, and at most 20 log lines a minute say so (the rest counted)", async () => {
    const s = sink();
    s.respond = () => new Response("gone", { status: 410 });
    const lines: Record<string, unknown>[] = [];
    const p = pipeline([hook({ name: "gone", url: s.url })], { log: createLogger("info", (l) => lines.push(JSON.parse(l))) });
    await messages(p, 30, "GONE");
    await p.dispatcher.drain();
    expect(p.count("SELECT count(*) n FROM deliveries WHERE state = 'disabled'")).toBe(30);
    const failed = lines.filter((l) => l.msg === "delivery attempt failed");
    expect(failed).toHaveLength(20);
    expect(failed[0]).toMatchObject({ level: "error", hook: "gone", status: 410, outcome: "disabled" });
  });

  test("one dead hook and one healthy hook → the healthy one gets everything promptly", async () => {
    const healthy = sink();
    const p = pipeline([
      hook({ name: "dead", url: `http://127.0.0.1:${closedPort()}/hook`, concurrency: 2 }),
      hook({ name: "healthy", url: healthy.url, concurrency: 2 }),
    ]);
    await messages(p, 30, "T");
    await p.dispatcher.drain(); // one pass, no clock advance
    expect(healthy.received).toHaveLength(30);
    expect(p.count("SELECT count(*) n FROM deliveries WHERE hook = 'healthy' AND state = 'done'")).toBe(30);
    expect(p.count("SELECT count(*) n FROM deliveries WHERE hook = 'dead' AND state = 'pending'")).toBe(30);
  });

  test("a hook never has more than its concurrency in flight", async () => {
    const s = slowSink(20);
    const p = pipeline([hook({ name: "app", url: s.url, concurrency: 3 })]);
    await messages(p, 12, "C");
    await p.dispatcher.drain();
    expect(s.received).toHaveLength(12);
    expect(s.maxInFlight).toBe(3);
  });

  test("claims ahead of its slots: the next attempt starts as one finishes, with no transaction in between", async () => {
    const s = slowSink(10);
    const p = pipeline([hook({ name: "app", url: s.url, concurrency: 2 })]);
    await messages(p, 12, "P");
    await p.dispatcher.tick(); // one claim: 4 × concurrency
    await p.dispatcher.idle();
    expect(s.received).toHaveLength(8);
    expect(s.maxInFlight).toBe(2);
    expect(p.count("SELECT count(*) n FROM deliveries WHERE state = 'delivering'")).toBe(8); // results not recorded yet
    await p.dispatcher.drain();
    await p.dispatcher.flush();
    expect(s.received).toHaveLength(12);
    expect(p.count("SELECT count(*) n FROM deliveries WHERE state = 'done' AND attempts = 1")).toBe(12);
  });

  test("a claimed delivery whose lease ran out while it waited (the process paused) is not started: the next claim sends it, once", async () => {
    const s = slowSink(50);
    const p = pipeline([hook({ name: "app", url: s.url, concurrency: 1, timeout: "1s" })]);
    await messages(p, 3, "PAUSE");
    await p.dispatcher.tick(); // claims 3 (lease: 4 + 1 timeouts + 30 s), starts 1
    p.clock.advance(40_000); // paused past the lease while the first is out
    await p.dispatcher.idle();
    expect(s.received).toHaveLength(1); // the waiting two were not started on a lost lease
    await p.dispatcher.drain(); // their leases have run out: claimed again, sent
    await p.dispatcher.flush();
    expect(s.received.map((r) => r.headers["webhook-id"]).sort()).toEqual([...new Set(s.received.map((r) => r.headers["webhook-id"]))].sort());
    expect(s.received).toHaveLength(3);
    expect(p.count("SELECT count(*) n FROM deliveries WHERE state = 'done'")).toBe(3);
  });

  test("on stop, attempts in flight finish and claimed ones never started go back, attempt uncounted", async () => {
    const s = slowSink(30);
    const p = pipeline([hook({ name: "app", url: s.url, concurrency: 1 })]);
    await messages(p, 4, "S");
    await p.dispatcher.tick();
    p.dispatcher.stop();
    await p.dispatcher.idle();
    await p.dispatcher.flush();
    expect(s.received).toHaveLength(1);
    expect(p.db.query("SELECT state, attempts, lease_token FROM deliveries ORDER BY id").all()).toEqual([
      { state: "done", attempts: 1, lease_token: null },
      ...Array.from({ length: 3 }, () => ({ state: "pending", attempts: 0, lease_token: null })),
    ]);
    expect(await p.dispatcher.tick()).toBe(0); // stopped: claims nothing

    const next = new Dispatcher(sqliteDispatch(p.db), { instance: "test", hooks: [hook({ name: "app", url: s.url, concurrency: 1 })], clock: p.clock, log: quiet });
    await next.drain();
    await next.flush();
    expect(s.received.map((r) => r.headers["webhook-id"])).toHaveLength(new Set(s.received.map((r) => r.headers["webhook-id"])).size);
    expect(p.count("SELECT count(*) n FROM deliveries WHERE state = 'done' AND attempts = 1")).toBe(4);
  });

  test("replay re-delivers with the same webhook-id and a fresh timestamp; dead deliveries can be retried", async () => {
    const s = sink();
    const p = pipeline([hook({ name: "app", url: s.url, retry_schedule: ["1s"] })]);
    p.post(fixture("message_text").payload);
    p.post(fixture("template_status_paused").payload);
    await p.processor.runOnce();
    await p.dispatcher.drain();
    expect(s.received).toHaveLength(2);

    p.clock.advance(60_000);
    expect(replayEvents(p.db, [hook({ name: "app", url: s.url })], replayOf({ type: "message.received" }), p.clock.now())).toEqual({ events: 1, queued: { app: 1 } });
    await p.dispatcher.drain();
    expect(s.received).toHaveLength(3);
    const [first, , again] = s.received;
    expect(again!.headers["webhook-id"]).toBe(first!.headers["webhook-id"]);
    expect(Number(again!.headers["webhook-timestamp"])).toBe(Number(first!.headers["webhook-timestamp"]) + 60);
    expect(again!.body).toBe(first!.body);
    expect(() => replayEvents(p.db, [], replayOf({ since: 0 }, "nope"), p.clock.now())).toThrow('no hook named "nope"');

    s.respond = () => new Response("x", { status: 500 });
    replayEvents(p.db, [hook({ name: "app", url: s.url })], replayOf({ since: 0 }), p.clock.now());
    for (let i = 0; i < 3; i++) {
      await p.dispatcher.drain();
      p.clock.advance(2_000);
    }
    expect(p.count("SELECT count(*) n FROM deliveries WHERE state = 'dead'")).toBe(2);
    s.respond = () => new Response("ok");
    expect(retryDeadDeliveries(p.db, p.clock.now(), "app")).toBe(2);
    await p.dispatcher.drain();
    expect(p.count("SELECT count(*) n FROM deliveries WHERE state = 'done'")).toBe(2);
  });
});
