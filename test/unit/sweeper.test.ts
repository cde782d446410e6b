/**
 * The sweeper on a real SQLite file with a real SMS sink over loopback, the clock
 * injected: every promise of docs/fallback.md that needs time to pass, without sleeping.
 */
import { sqliteSendQueue } from "../../src/store/send-queue";
import { afterEach, describe, expect, test } from "bun:test";
import { storeGauges } from "../../src/metrics/gauges";
import { adminOps } from "../../src/admin/ops";
import { FallbackSender } from "../../src/sweeper/sender";
import { parseSmsSettings } from "../support/sms";
import { hook, pipeline, quiet } from "../support/pipeline";
import { closedPort, Sink } from "../support/sink";
import { createLogger } from "../../src/util/log";
import { keyedRedactor } from "../../src/util/redact";
import { statusesPayload } from "../support/webhooks";
import { openDatabase } from "../../src/store/db";
import { waitFor } from "../support/daemon";
import { sqliteSweeper } from "../../src/store/sweeper-engine";

const sinks: Sink[] = [];
afterEach(() => sinks.splice(0).forEach((s) => s.stop()));
const UTILITY = { billable: true, pricing_model: "PMP", category: "utility" };

const statuses = statusesPayload;
const status = (id: string, s: string, atMs: number, extra: Record<string, unknown> = {}) => ({ id, status: s, timestamp: String(Math.floor(atMs / 1000)), recipient_id: "16505551234", pricing: UTILITY, ...extra });
const opaque = JSON.stringify({ sms: "Your order shipped" });

function setup(fallback: Record<string, unknown> = {}, respond?: Sink["respond"], more: Pick<NonNullable<Parameters<typeof pipeline>[1]>, "giveWay" | "batchSize" | "log" | "alerts" | "open"> = {}) {
  const sms = new Sink().start();
  if (respond) sms.respond = respond;
  sinks.push(sms);
  const { sms: smsExtra, ...rest } = fallback as { sms?: Record<string, unknown> };
  const p = pipeline([], { fallback: { enabled: true, stale_after: "1m", not_after: "1h", sms: { url: `http://127.0.0.1:${sms.port}/sms`, retry_schedule: ["1s"], ...smsExtra }, ...rest }, ...more });
  const sweeper = p.sweeper;
  const deliver = async (...items: Record<string, unknown>[]) => {
    p.post(statuses(...items));
    while ((await p.processor.runOnce(100, 1_000)).jobs > 0);
  };
  const state = (wamid: string) => sweeper.tracker!.store.get(wamid)?.state;
  const sweep = () => sweeper.jobs.run("stale");
  const send = () => sweeper.jobs.run("fallback");
  const outcomes = () => p.db.query<{ o: string }, []>("SELECT json_extract(envelope, '$.data.outcome') o FROM events WHERE type = 'message.fallback' ORDER BY id").all().map((r) => r.o);
  return { p, sms, sweeper, deliver, state, sweep, send, outcomes, t0: p.clock.now() };
}

test("a DEFER failure waits for the deadline, then one SMS", async () => {
  const s = setup();
  await s.deliver(status("wamid.D", "sent", s.t0, { biz_opaque_callback_data: opaque }), status("wamid.D", "failed", s.t0 + 1_000, { errors: [{ code: 131000, title: "Something went wrong" }] }));
  await s.sweep();
  expect(s.state("wamid.D")).toBe("tracked");
  s.p.clock.advance(61_000);
  await s.sweep();
  expect(s.state("wamid.D")).toBe("fallback_pending");
  await s.send();
  expect(s.sms.received.map((r) => r.headers["idempotency-key"])).toEqual(["wamid.D"]);
  expect(s.state("wamid.D")).toBe("fallback_sent");
});

test("message.stale and message.fallback carry the number the message was sent from: a hook filtered by phone_number_ids gets them", async () => {
  const sms = new Sink().start();
  sinks.push(sms);
  const hooks = [hook({ name: "ours", url: "http://127.0.0.1:9/x", phone_number_ids: ["106540352242922"] }), hook({ name: "other", url: "http://127.0.0.1:9/y", phone_number_ids: ["999999999999999"] })];
  const p = pipeline(hooks, { fallback: { enabled: true, stale_after: "1m", not_after: "1h", sms: { url: `http://127.0.0.1:${sms.port}/sms`, retry_schedule: ["1s"] } } });
  p.post(statusesPayload(status("wamid.N", "sent", p.clock.now(), { biz_opaque_callback_data: opaque })));
  while ((await p.processor.runOnce(100, 1_000)).jobs > 0);
  p.clock.advance(61_000);
  await p.sweeper.jobs.run("stale");
  await p.sweeper.jobs.run("fallback");
  const routed = p.db
    .query<{ type: string; phone_number_id: string | null; hooks: string | null }, []>(
      "SELECT e.type, e.phone_number_id, (SELECT group_concat(hook) FROM deliveries d WHERE d.event_id = e.id) hooks FROM events e WHERE e.type IN ('message.stale', 'message.fallback') ORDER BY e.id",
    )
    .all();
  expect(routed).toEqual([
    { type: "message.stale", phone_number_id: "106540352242922", hooks: "ours" },
    { type: "message.fallback", phone_number_id: "106540352242922", hooks: "ours" },
  ]);
});

test("delivered after the decision but before the claim: cancelled, no SMS, reported", async () => {
  const s = setup();
  await s.deliver(status("wamid.C", "sent", s.t0, { biz_opaque_callback_data: opaque }));
  s.p.clock.advance(61_000);
  await s.sweep();
  expect(s.state("wamid.C")).toBe("fallback_pending");
  await s.deliver(status("wamid.C", "delivered", s.t0 + 30_000));
  await s.send();
  expect(s.sms.received).toHaveLength(0);
  expect(s.state("wamid.C")).toBe("cancelled_delivered");
  expect(s.outcomes()).toEqual(["cancelled"]);
});

/**
 * A message past its deadline whose SMS request is out, the provider's answer held, and
 * WhatsApp's `delivered` processed meanwhile: `answer` lets the provider answer,
 * `sending` is the sender's round.
 */
async function deliveredWhileSending(wamid: string, response: Response, fallback: Record<string, unknown> = {}) {
  let answer!: () => void;
  const s = setup(fallback, () => new Promise<Response>((resolve) => (answer = () => resolve(response))));
  await s.deliver(status(wamid, "sent", s.t0, { biz_opaque_callback_data: opaque }));
  s.p.clock.advance(61_000);
  await s.sweep();
  const sending = s.send();
  await waitFor(() => s.sms.received.length === 1, 5_000);
  await s.deliver(status(wamid, "delivered", s.p.clock.now()));
  return { s, sending, answer: () => answer() };
}

test("delivered while the SMS request is out: the SMS still went, so the timeline says fallback_sent, then late_delivered", async () => {
  const { s, sending, answer } = await deliveredWhileSending("wamid.RACE", new Response("queued"));
  expect(s.state("wamid.RACE")).toBe("sending"); // the request is out: nothing to cancel
  answer();
  await sending;
  expect(s.state("wamid.RACE")).toBe("late_delivered");
  expect(moves(s, "wamid.RACE").slice(-2)).toEqual([
    { state: "fallback_sent", provider_status: 200, attempts: 1 },
    { state: "late_delivered", delivered_at: new Date(Math.floor(s.p.clock.now() / 1000) * 1000).toISOString() },
  ]);
  expect(s.outcomes()).toEqual(["sent"]);
});

test("delivered while a failing attempt is out: the retry is cancelled (cancelled_delivered), one request in all", async () => {
  const { s, sending, answer } = await deliveredWhileSending("wamid.RETRY_RACE", new Response("busy", { status: 500 }));
  answer();
  await sending;
  expect(s.state("wamid.RETRY_RACE")).toBe("cancelled_delivered");
  s.p.clock.advance(5_000);
  await s.send();
  expect(s.sms.received).toHaveLength(1);
  expect(moves(s, "wamid.RETRY_RACE").at(-1)).toMatchObject({ state: "cancelled_delivered", provider_status: 500, why: expect.stringContaining("not retried") });
  expect(s.outcomes()).toEqual(["cancelled"]);
});

test("delivered while an attempt that then times out is out: late_delivered, not unknown, so no resend goes", async () => {
  const { s, sending, answer } = await deliveredWhileSending("wamid.TIMEOUT_RACE", new Response("late"), { sms: { timeout: "1s" } });
  await sending; // the provider's answer never comes within the timeout
  answer();
  expect(s.state("wamid.TIMEOUT_RACE")).toBe("late_delivered");
  expect(moves(s, "wamid.TIMEOUT_RACE").slice(-2).map((m) => m.state)).toEqual(["unknown", "late_delivered"]);
  const resend = await adminOps(s.p.db, s.sweeper, [])({ op: "resolve", wamid: "wamid.TIMEOUT_RACE", action: "resend" }, s.p.clock.now());
  expect(resend.status).toBe(409);
  expect(s.sms.received).toHaveLength(1);
});

test("past not_after (the daemon was down): expired_unsent, never an SMS", async () => {
  const s = setup();
  await s.deliver(status("wamid.E", "sent", s.t0, { biz_opaque_callback_data: opaque }));
  s.p.clock.advance(2 * 3_600_000);
  await s.sweep();
  await s.send();
  expect(s.state("wamid.E")).toBe("expired_unsent");
  expect(s.sms.received).toHaveLength(0);
  expect(s.outcomes()).toEqual(["not_sent"]);
});

test("shadow mode records and reports what would be sent, and sends nothing", async () => {
  const s = setup({ mode: "shadow" });
  await s.deliver(status("wamid.S", "sent", s.t0, { biz_opaque_callback_data: opaque }));
  s.p.clock.advance(61_000);
  await s.sweep();
  await s.send();
  expect(s.state("wamid.S")).toBe("shadowed");
  expect(s.sweeper.tracker!.store.send("wamid.S")).toMatchObject({ state: "shadow", text: "Your order shipped" });
  expect(s.sms.received).toHaveLength(0);
  expect(s.outcomes()).toEqual(["shadow"]);
  // Delivered after all: the SMS would have been a double delivery; the timeline says so, once.
  await s.deliver(status("wamid.S", "delivered", s.t0 + 70_000), status("wamid.S", "read", s.t0 + 80_000));
  expect(s.state("wamid.S")).toBe("shadowed");
  expect(moves(s, "wamid.S").filter((m) => m.state === "late_delivered")).toEqual([{ state: "late_delivered", delivered_at: new Date(s.t0 + 70_000).toISOString(), shadow: true }]);
});

test("a sweep and the SMS rounds give way to ingestion after every full batch; the timeline keeps each move", async () => {
  const steps: number[] = [];
  const giveWay = async (workedMs: number) => void steps.push(workedMs);
  // Every deadline missed at once would trip the outage guard; not what this test is about.
  const s = setup({ max_stale_ratio: 1, sms: { url: `http://127.0.0.1:${closedPort()}/sms`, concurrency: 10 } }, undefined, { giveWay, batchSize: 10 });
  for (let i = 0; i < 25; i++) {
    s.sweeper.tracker!.register({ wamid: `wamid.G${i}`, to: "16505551234", text: "Your code is 1", category: "authentication", stale_after_ms: 60_000, not_after_ms: null, fallback: null }, s.t0);
  }
  s.p.clock.advance(61_000);
  const swept = await s.sweep();
  expect(swept.ran && swept.result).toMatchObject({ stale: 25, pending: 25 });
  expect(steps).toHaveLength(2); // after the batches of 10 and 10; the last (5) ends the run
  expect(steps.every((ms) => ms >= 0)).toBe(true);
  expect(s.sweeper.tracker!.store.timeline("wamid.G0").map((m) => m.state)).toEqual(["registered", "stale", "fallback_pending"]);
  await s.send(); // rounds of 10, 10, 5 against a closed port: all retried later
  expect(steps).toHaveLength(4);
  expect(s.sweeper.tracker!.store.timeline("wamid.G0").map((m) => m.state)).toEqual(["registered", "stale", "fallback_pending", "sending"]);
});

test("statuses of one message in one processing batch, read in one query: each sees what the one before it did", async () => {
  const s = setup();
  for (const item of [
    status("wamid.Q", "sent", s.t0, { biz_opaque_callback_data: opaque }),
    status("wamid.Q", "failed", s.t0 + 1_000, { errors: [{ code: 131026 }] }),
    status("wamid.Q", "delivered", s.t0 + 2_000),
  ]) s.p.post(statuses(item)); // three webhooks, one batch
  expect(await s.p.processor.runOnce(100, 1_000)).toMatchObject({ jobs: 3, events: 3 });
  expect(s.state("wamid.Q")).toBe("cancelled_delivered");
  expect(s.sweeper.tracker!.store.send("wamid.Q")).toMatchObject({ state: "cancelled" });
  expect(s.sweeper.tracker!.store.timeline("wamid.Q").map((m) => m.state)).toEqual(["fallback_pending", "cancelled_delivered"]);
  expect(s.outcomes()).toEqual(["cancelled"]);
  await s.send();
  expect(s.sms.received).toHaveLength(0);
});

test("with synchronous = full, a stale batch commits without an fsync and leaves the connection at FULL, so the SMS claim that follows does fsync", async () => {
  const s = setup({ max_stale_ratio: 1 }, undefined, { open: (path) => openDatabase(path, { synchronous: "full", busyTimeoutMs: 2000, autoCheckpoint: true }) });
  const level = () => s.p.db.query<{ synchronous: number }, []>("PRAGMA synchronous").get()!.synchronous;
  s.sweeper.tracker!.register({ wamid: "wamid.F1", to: "16505551234", text: "Your code is 1", category: "authentication", stale_after_ms: 60_000, not_after_ms: null, fallback: null }, s.t0);
  s.p.clock.advance(61_000);
  let during = -1;
  const swept = s.sweeper.tracker!.sweepBatch(s.p.clock.now(), 10);
  expect(swept).toMatchObject({ stale: 1, pending: 1 });
  // Inside the batch's transaction the commit is relaxed (NORMAL = 1); after it, FULL (2) again.
  sqliteSweeper(s.p.db).sweepStale(s.p.clock.now(), 10, () => ((during = level()), { writes: { decisions: [], moves: [], sends: [], events: [], deliveries: [] } }));
  expect(during).toBe(1);
  expect(level()).toBe(2);
  await s.send();
  expect(s.sms.received).toHaveLength(1);
});

test("one stale batch, decided as a set: each message's outcome, events and timeline as one at a time; a batch run again changes nothing", async () => {
  const { lines, log } = capturedLog();
  const s = setup({ max_stale_ratio: 1, categories: ["authentication", "utility"] }, undefined, { log });
  const tracker = s.sweeper.tracker!;
  const reg = (wamid: string, over: Partial<Parameters<typeof tracker.register>[0]> = {}) =>
    tracker.register({ wamid, to: "16505551234", text: "Your code is 1", category: "authentication", stale_after_ms: 60_000, not_after_ms: null, fallback: null, ...over }, s.t0);
  reg("wamid.B1");
  reg("wamid.B2", { fallback: "never" });
  reg("wamid.B3", { text: null });
  reg("wamid.B4", { category: "marketing" });
  reg("wamid.B5", { to: null });
  reg("wamid.B6", { stale_after_ms: 10 * 60_000 }); // not due yet
  s.p.clock.advance(61_000);
  const swept = await s.sweep();
  expect(swept.ran && swept.result).toMatchObject({ stale: 5, pending: 1, settled: 4 });
  expect(["B1", "B2", "B3", "B4", "B5", "B6"].map((b) => s.state(`wamid.${b}`))).toEqual(["fallback_pending", "not_sent", "no_text", "not_sent", "not_sent", "tracked"]);
  // Numbered after the registration, in order.
  for (const b of ["B1", "B2"]) expect(tracker.store.timeline(`wamid.${b}`).map((m) => m.state)).toEqual(["registered", "stale", b === "B1" ? "fallback_pending" : "not_sent"]);
  expect(JSON.parse(tracker.store.timeline("wamid.B2")[2]!.detail!)).toEqual({ why: "the app said fallback = never" });
  expect(JSON.parse(tracker.store.timeline("wamid.B1")[2]!.detail!)).toEqual({ reason: "stale", error_code: null });
  expect(tracker.store.send("wamid.B1")).toMatchObject({ state: "pending", recipient: "16505551234", text: "Your code is 1", reason: "stale", category: "authentication" });
  expect(tracker.store.send("wamid.B2")).toBeNull();
  // Events in id order: each message's message.stale, then its message.fallback when nothing is sent.
  const events = s.p.db.query<{ type: string; wamid: string; outcome: string | null }, []>("SELECT type, wamid, json_extract(envelope, '$.data.outcome') outcome FROM events ORDER BY id").all();
  expect(events.map((e) => `${e.type} ${e.wamid} ${e.outcome ?? ""}`.trim())).toEqual([
    "message.stale wamid.B1",
    "message.stale wamid.B2",
    "message.fallback wamid.B2 not_sent",
    "message.stale wamid.B3",
    "message.fallback wamid.B3 not_sent",
    "message.stale wamid.B4",
    "message.fallback wamid.B4 not_sent",
    "message.stale wamid.B5",
    "message.fallback wamid.B5 not_sent",
  ]);
  // B2 tracked again (as if its decision were lost): decided again, but its events are not raised twice, nor logged twice.
  const logged = lines.filter((l) => l.msg === "sms fallback not sent").length;
  s.p.db.run("UPDATE tracked_messages SET state = 'tracked' WHERE wamid = 'wamid.B2'");
  expect((await s.sweep()).ran).toBe(true);
  expect(s.state("wamid.B2")).toBe("not_sent");
  expect(s.p.count("SELECT count(*) n FROM events WHERE wamid = 'wamid.B2'")).toBe(2);
  expect(s.p.count("SELECT duplicates n FROM dedup_keys WHERE key = 'stale:wamid.B2'")).toBe(1);
  expect(lines.filter((l) => l.msg === "sms fallback not sent")).toHaveLength(logged);
  expect(tracker.store.timeline("wamid.B2").map((m) => m.state)).toEqual(["registered", "stale", "not_sent", "stale", "not_sent"]);
});

describe("exactly one SMS per wamid", () => {
  test("provider refusing, then answering 503, then up: one SMS in the end, every attempt with the same key; form encoding", async () => {
    let answers = 0;
    const s = setup({}, () => new Response("busy", { status: ++answers === 1 ? 503 : 200 }));
    const url = `http://127.0.0.1:${s.sms.port}/sms`;
    // Refused first: the provider's URL points at a closed port.
    const settings = { url: `http://127.0.0.1:${closedPort()}/sms`, retry_schedule: ["1s", "1s", "1s"], content_type: "form", body: { To: "+{{to}}", Body: "{{text}}" } };
    const sender = (over: Record<string, unknown>) => new FallbackSender(sqliteSendQueue(s.p.db, s.sweeper.tracker!), parseSmsSettings({ ...settings, ...over }), s.p.clock, quiet, "test");
    await s.deliver(status("wamid.P", "failed", s.t0, { biz_opaque_callback_data: opaque, errors: [{ code: 131026 }] }));
    expect(s.state("wamid.P")).toBe("fallback_pending");
    expect(await sender({}).run(10)).toMatchObject({ claimed: 1, retrying: 1 });
    s.p.clock.advance(1_000);
    expect(await sender({ url }).run(10)).toMatchObject({ claimed: 1, retrying: 1 }); // 503
    s.p.clock.advance(1_000);
    expect(await sender({ url }).run(10)).toMatchObject({ claimed: 1, sent: 1 });
    s.p.clock.advance(10_000);
    expect(await sender({ url }).run(10)).toMatchObject({ claimed: 0 });
    expect(s.sms.received.map((r) => r.headers["idempotency-key"])).toEqual(["wamid.P", "wamid.P"]);
    expect(Object.fromEntries(new URLSearchParams(s.sms.received[1]!.body))).toEqual({ To: "+16505551234", Body: "Your order shipped" });
    expect(s.sweeper.tracker!.store.send("wamid.P")).toMatchObject({ state: "sent", attempts: 3, provider_status: 200 });
    expect(s.state("wamid.P")).toBe("fallback_sent");
  });

  test("a timeout after the request went out is unknown, never resent; resolved by hand it goes again with the same key", async () => {
    const s = setup({}, async () => (await Bun.sleep(1_000), new Response("late")));
    const sender = new FallbackSender(sqliteSendQueue(s.p.db, s.sweeper.tracker!), parseSmsSettings({ url: `http://127.0.0.1:${s.sms.port}/sms`, timeout: "200ms" }), s.p.clock, quiet, "test");
    await s.deliver(status("wamid.U", "failed", s.t0, { biz_opaque_callback_data: opaque, errors: [{ code: 131026 }] }));
    expect(await sender.run(10)).toMatchObject({ unknown: 1 });
    s.p.clock.advance(3_600_000);
    expect(await sender.run(10)).toMatchObject({ claimed: 0 });
    expect(s.sms.received).toHaveLength(1);
    expect(s.state("wamid.U")).toBe("unknown");

    const ops = adminOps(s.p.db, s.sweeper, []);
    expect(await ops({ op: "resolve", wamid: "wamid.U", action: "resend" }, s.p.clock.now())).toMatchObject({ status: 200 });
    expect(await ops({ op: "resolve", wamid: "wamid.U", action: "resend" }, s.p.clock.now())).toMatchObject({ status: 409 });
    s.sms.respond = () => new Response("ok");
    expect(await sender.run(10)).toMatchObject({ sent: 1 });
    expect(s.sms.received.map((r) => r.headers["idempotency-key"])).toEqual(["wamid.U", "wamid.U"]);
  });

  test("two sweeps and two senders at once, and a claim whose process died: one SMS", async () => {
    const s = setup();
    await s.deliver(status("wamid.X", "sent", s.t0, { biz_opaque_callback_data: opaque }), status("wamid.Y", "sent", s.t0, { biz_opaque_callback_data: opaque }));
    s.p.clock.advance(61_000);
    const [a, b] = await Promise.all([s.sweep(), s.sweep()]);
    expect([a.ran, b.ran].sort()).toEqual([false, true]);
    // A process claimed wamid.Y and died before it could send (kill -9): its claim stays in the database.
    expect(s.sweeper.tracker!.store.claimSends("dead-host:token", s.p.clock.now() + 40_000, s.p.clock.now(), 1).map((r) => r.wamid)).toEqual(["wamid.X"]);
    const senders = [1, 2].map(() => new FallbackSender(sqliteSendQueue(s.p.db, s.sweeper.tracker!), parseSmsSettings({ url: `http://127.0.0.1:${s.sms.port}/sms` }), s.p.clock, quiet, "test"));
    await Promise.all(senders.map((x) => x.run(10)));
    expect(s.sms.received.map((r) => r.headers["idempotency-key"])).toEqual(["wamid.Y"]);
    s.p.clock.advance(41_000); // the dead claim's lease runs out: taken again, same key
    await Promise.all(senders.map((x) => x.run(10)));
    expect(s.sms.received.map((r) => r.headers["idempotency-key"]).sort()).toEqual(["wamid.X", "wamid.Y"]);
    await Promise.all(senders.map((x) => x.run(10)));
    expect(s.sms.received).toHaveLength(2);
  });
});

describe("outage guard", () => {
  const many = (n: number, s: ReturnType<typeof setup>, prefix: string) => Array.from({ length: n }, (_, i) => status(`wamid.${prefix}${i}`, "sent", s.t0, { biz_opaque_callback_data: opaque }));

  test("most deadlines without a delivery: everything held and reported; replayed statuses resume it", async () => {
    const s = setup();
    await s.deliver(...many(30, s, "O"));
    await s.deliver(...Array.from({ length: 10 }, (_, i) => status(`wamid.O${i}`, "delivered", s.t0 + 5_000)));
    s.p.clock.advance(61_000);
    const held = await s.sweep();
    expect(held).toMatchObject({ ran: true, result: { held: true, total: 30, stale: 20 } });
    expect(s.p.count("SELECT count(*) n FROM fallback_sends")).toBe(0);
    expect(s.p.count("SELECT count(*) n FROM events WHERE type = 'fallback.held'")).toBe(1);
    expect(s.p.db.query("SELECT kind, state, title FROM alerts").all()).toEqual([
      { kind: "fallback.held", state: "recorded", title: "SMS fallback held: most messages have no delivery status" },
    ]);
    await s.sweep(); // still held: one report, not one per sweep
    expect(s.p.count("SELECT count(*) n FROM events WHERE type = 'fallback.held'")).toBe(1);
    // Held messages are stale all the same: the gauge says how many wait (it said 0 during an outage).
    const stale = storeGauges(s.p.db, [], s.p.clock.now()).find((g) => g.name === "wa_stale_messages")!.samples;
    expect(stale).toEqual([{ value: 20 }]);
    expect(s.p.count("SELECT count(*) n FROM alerts")).toBe(1);
    // Meta reaches us again and replays: most were delivered after all.
    await s.deliver(...Array.from({ length: 15 }, (_, i) => status(`wamid.O${10 + i}`, "delivered", s.t0 + 5_000)));
    s.p.clock.advance(1_000);
    expect(await s.sweep()).toMatchObject({ ran: true, result: { held: false, stale: 5, pending: 5 } });
    await s.send();
    expect(s.sms.received).toHaveLength(5);
  });

  test("a few stale among many delivered: no hold", async () => {
    const s = setup();
    await s.deliver(...many(30, s, "N"));
    await s.deliver(...Array.from({ length: 25 }, (_, i) => status(`wamid.N${i}`, "delivered", s.t0 + 5_000)));
    s.p.clock.advance(61_000);
    expect(await s.sweep()).toMatchObject({ ran: true, result: { held: false, stale: 5 } });
  });
});

test("group sends, payments and statuses that change nothing are not tracked or written", async () => {
  const s = setup();
  await s.deliver(status("wamid.G", "sent", s.t0, { recipient_id: "120363000000000000@g.us", recipient_type: "group", recipient_participant_id: "16505550000" }));
  await s.deliver(status("pay.1", "failed", s.t0, { type: "payment", payment: { reference_id: "r1" } }));
  expect(s.sweeper.tracker!.store.get("wamid.G")).toBeNull();
  expect(s.sweeper.tracker!.store.get("pay.1")).toBeNull();
  await s.deliver(status("wamid.R", "sent", s.t0), status("wamid.R", "delivered", s.t0 + 1_000));
  const before = s.p.count("SELECT count(*) n FROM tracked_timeline");
  await s.deliver(status("wamid.R", "read", s.t0 + 2_000));
  expect(s.p.count("SELECT count(*) n FROM tracked_timeline")).toBe(before);
  expect(s.state("wamid.R")).toBe("done");
});

describe("Meta's statuses racing the app's registration, and messages Meta never priced", () => {
  const registration = (wamid: string, to = "16505551234") => ({ wamid, to, text: null, category: null, stale_after_ms: null, not_after_ms: null, fallback: null });
  const generic = { default_text: "We could not reach you on WhatsApp (ref {{wamid}})" };
  /** A status as Meta sends it since 2026 on anything but delivered or read: no price. */
  const unpriced = (wamid: string, st: string, at: number, extra: Record<string, unknown> = {}) => ({ ...status(wamid, st, at, extra), pricing: undefined });

  test("delivered (or read) before the app registers the message: the registration finds it done, and no SMS ever goes", async () => {
    const s = setup(generic);
    await s.deliver(status("wamid.FIRST_DELIVERED", "delivered", s.t0), status("wamid.FIRST_READ", "read", s.t0));
    for (const wamid of ["wamid.FIRST_DELIVERED", "wamid.FIRST_READ"]) {
      expect(s.sweeper.tracker!.register({ ...registration(wamid), text: "hello", category: "utility" }, s.p.clock.now()).row.state).toBe("done");
    }
    s.p.clock.advance(61_000);
    await s.sweep();
    await s.send();
    expect(s.sms.received).toHaveLength(0);
    expect(s.state("wamid.FIRST_DELIVERED")).toBe("done");
    expect(s.state("wamid.FIRST_READ")).toBe("done");
  });

  test("seen only through statuses, never priced (2026: pricing comes with delivered or read): no SMS unless unknown_category = \"send\"; registered without a category: an SMS", async () => {
    const s = setup(generic);
    s.sweeper.tracker!.register(registration("wamid.REGISTERED"), s.t0);
    await s.deliver(unpriced("wamid.STATUS_ONLY", "sent", s.t0), unpriced("wamid.REGISTERED", "sent", s.t0), unpriced("wamid.FAILED_ONLY", "failed", s.t0, { errors: [{ code: 131026 }] }));
    s.p.clock.advance(61_000);
    await s.sweep();
    await s.send();
    expect(s.sms.received.map((r) => r.headers["idempotency-key"])).toEqual(["wamid.REGISTERED"]);
    expect([s.state("wamid.STATUS_ONLY"), s.state("wamid.FAILED_ONLY")]).toEqual(["not_sent", "not_sent"]);
    expect(moves(s, "wamid.STATUS_ONLY").at(-1)).toMatchObject({ state: "not_sent", why: expect.stringContaining("category unknown") });

    const anyway = setup({ ...generic, unknown_category: "send" });
    await anyway.deliver(unpriced("wamid.STATUS_ONLY", "sent", anyway.t0), unpriced("wamid.FAILED_ONLY", "failed", anyway.t0, { errors: [{ code: 131026 }] }));
    anyway.p.clock.advance(61_000);
    await anyway.sweep();
    await anyway.send();
    expect(anyway.sms.received.map((r) => r.headers["idempotency-key"]).sort()).toEqual(["wamid.FAILED_ONLY", "wamid.STATUS_ONLY"]);
  });

  test("131026 before the app registers the message: the failure waits for the registration, which decides it at once (one SMS, no wait for the deadline)", async () => {
    const s = setup();
    await s.deliver(unpriced("wamid.FAILED_FIRST", "failed", s.t0, { errors: [{ code: 131026 }] }));
    expect(s.state("wamid.FAILED_FIRST")).toBe("tracked"); // not settled for want of a category
    const answer = s.sweeper.tracker!.register({ ...registration("wamid.FAILED_FIRST"), text: "Your code is 1", category: "authentication" }, s.p.clock.now());
    expect(answer.row.state).toBe("fallback_pending");
    await s.send();
    expect(s.sms.received.map((r) => r.headers["idempotency-key"])).toEqual(["wamid.FAILED_FIRST"]);
  });

  test("Meta's price decides the category over the app's: registered as utility, priced marketing, no SMS", async () => {
    const s = setup();
    s.sweeper.tracker!.register({ ...registration("wamid.PRICED_MARKETING"), text: "Sale!", category: "utility" }, s.t0);
    await s.deliver(status("wamid.PRICED_MARKETING", "sent", s.t0, { pricing: { ...UTILITY, type: "regular", category: "marketing" } }));
    s.p.clock.advance(61_000);
    await s.sweep();
    await s.send();
    expect(s.sms.received).toHaveLength(0);
    expect(s.sweeper.tracker!.store.get("wamid.PRICED_MARKETING")).toMatchObject({ state: "not_sent", category: "marketing" });
  });

  test("130472 (Meta's marketing experiment) says the message was marketing: no SMS, registered without a category or as utility; with marketing listed, one", async () => {
    const s = setup();
    s.sweeper.tracker!.register({ ...registration("wamid.EXPERIMENT"), text: "20% off this weekend!" }, s.t0);
    s.sweeper.tracker!.register({ ...registration("wamid.EXPERIMENT_U"), text: "20% off", category: "utility" }, s.t0);
    for (const wamid of ["wamid.EXPERIMENT", "wamid.EXPERIMENT_U"]) await s.deliver(unpriced(wamid, "failed", s.t0, { errors: [{ code: 130472 }] }));
    await s.send();
    expect(s.sms.received).toHaveLength(0);
    for (const wamid of ["wamid.EXPERIMENT", "wamid.EXPERIMENT_U"]) expect(s.sweeper.tracker!.store.get(wamid)).toMatchObject({ state: "not_sent", category: "marketing", error_code: 130472 });
    const listed = setup({ categories: ["authentication", "marketing"] });
    listed.sweeper.tracker!.register({ ...registration("wamid.EXPERIMENT"), text: "20% off this weekend!" }, listed.t0);
    await listed.deliver(unpriced("wamid.EXPERIMENT", "failed", listed.t0, { errors: [{ code: 130472 }] }));
    await listed.send();
    expect(listed.sms.received.map((r) => r.headers["idempotency-key"])).toEqual(["wamid.EXPERIMENT"]);
  });

  test("a category in any of Meta's spellings is kept in one (lower case, _), registered or priced", async () => {
    const s = setup();
    s.sweeper.tracker!.register({ ...registration("wamid.SPELLED"), text: "code 1", category: "AUTHENTICATION-INTERNATIONAL" }, s.t0);
    await s.deliver(status("wamid.PRICED_SPELLED", "sent", s.t0, { pricing: { ...UTILITY, type: "regular", category: "authentication-international" } }));
    expect(s.sweeper.tracker!.store.get("wamid.SPELLED")!.category).toBe("authentication_international");
    expect(s.sweeper.tracker!.store.get("wamid.PRICED_SPELLED")!.category).toBe("authentication_international");
  });

  test("a registered message whose status says it went to a group: not_sent at that status, saying why; no SMS at the deadline", async () => {
    const s = setup(generic);
    s.sweeper.tracker!.register({ ...registration("wamid.TO_GROUP"), category: "utility" }, s.t0);
    await s.deliver(status("wamid.TO_GROUP", "sent", s.t0, { recipient_id: "120363000000000088", recipient_type: "group" }));
    expect(s.state("wamid.TO_GROUP")).toBe("not_sent");
    expect(moves(s, "wamid.TO_GROUP").at(-1)).toMatchObject({ state: "not_sent", why: expect.stringContaining("not a 1:1 message") });
    s.p.clock.advance(61_000);
    await s.sweep();
    await s.send();
    expect(s.sms.received).toHaveLength(0);
    expect(s.outcomes()).toEqual(["not_sent"]);
    // GET /v1/messages says who it went to, and what the app attached.
    await s.deliver(status("wamid.OPAQUE", "sent", s.t0, { biz_opaque_callback_data: "order-42" }));
    expect((await adminOps(s.p.db, s.sweeper, [])({ op: "message", wamid: "wamid.OPAQUE" }, s.p.clock.now())).body).toMatchObject({ recipient_id: "16505551234", biz_opaque_callback_data: "order-42" });
  });
});

/** Log lines as a daemon would write them, numbers hashed. */
function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: createLogger("info", (l) => lines.push(JSON.parse(l)), keyedRedactor("test-key")) };
}
/** A wamid as capturedLog's lines show it: Meta's wamid holds a number, so it is hashed too. */
const logged = (wamid: string) => keyedRedactor("test-key").message(wamid);
const moves = (s: ReturnType<typeof setup>, wamid: string) => s.sweeper.tracker!.store.timeline(wamid).map((m) => ({ state: m.state, ...(m.detail ? JSON.parse(m.detail) : {}) }));

test("a decision that sends nothing is logged once, with the wamid and why", async () => {
  const { lines, log } = capturedLog();
  const s = setup({}, undefined, { log });
  await s.deliver(status("wamid.T", "failed", s.t0, { errors: [{ code: 131026 }] })); // no text of its own, no default_text
  await s.deliver(status("wamid.K", "sent", s.t0, { pricing: { ...UTILITY, category: "marketing" }, biz_opaque_callback_data: opaque }));
  s.p.clock.advance(61_000);
  await s.sweep();
  await s.sweep();
  await s.deliver(status("wamid.T", "failed", s.t0 + 2_000, { errors: [{ code: 131047 }] })); // another failure changes nothing
  expect(s.state("wamid.T")).toBe("no_text");
  expect(lines.filter((l) => l.msg === "sms fallback not sent")).toEqual([
    expect.objectContaining({ level: "info", wamid: logged("wamid.T"), state: "no_text", reason: expect.stringContaining("fallback.default_text is not set") }),
    expect.objectContaining({ level: "info", wamid: logged("wamid.K"), state: "not_sent", reason: "category marketing is not in fallback.categories" }),
  ]);
});

test("instructions in biz_opaque_callback_data with a field not understood: the text still makes the SMS (the config's wait), one warning names the field", async () => {
  const { lines, log } = capturedLog();
  const s = setup({}, undefined, { log });
  const bad = JSON.stringify({ sms: "Your code is 123456", stale_after: 120 });
  await s.deliver(status("wamid.BAD_WAIT", "sent", s.t0, { biz_opaque_callback_data: bad }), status("wamid.BAD_WAIT", "sent", s.t0, { biz_opaque_callback_data: bad }));
  s.p.clock.advance(61_000);
  await s.sweep();
  await s.send();
  expect(s.sms.received.map((r) => r.headers["idempotency-key"])).toEqual(["wamid.BAD_WAIT"]);
  expect(lines.filter((l) => l.msg === "sms fallback: instructions in biz_opaque_callback_data left out")).toEqual([
    expect.objectContaining({ level: "warn", wamid: logged("wamid.BAD_WAIT"), problems: ["stale_after: Invalid input: expected string, received number"] }),
  ]);
});

test("a signed status whose wamid holds CR, LF, NUL or a space, or runs past 512 characters, is not tracked: its event goes on, no SMS, a warning says why", async () => {
  const raw: string[] = [];
  const s = setup({}, undefined, { log: createLogger("info", (l) => raw.push(l), keyedRedactor("test-key")) });
  const odd = ["wamid.A\r\nX-Injected: 1", "wamid.B\u0000", "wamid. C", `wamid.${"L".repeat(600)}`];
  for (const wamid of [...odd, "wamid.FINE"]) await s.deliver(status(wamid, "failed", s.t0, { biz_opaque_callback_data: opaque, errors: [{ code: 131026 }] }));
  expect(s.p.count("SELECT count(*) n FROM events WHERE type = 'message.status'")).toBe(5);
  for (const wamid of odd) expect(s.sweeper.tracker!.store.get(wamid)).toBeNull();
  expect(s.p.count("SELECT count(*) n FROM fallback_sends")).toBe(1);
  await s.send();
  expect(s.sms.received.map((r) => r.headers["idempotency-key"])).toEqual(["wamid.FINE"]);
  const warned = raw.map((l) => JSON.parse(l) as Record<string, string>).filter((l) => l.msg === "sms fallback: message not tracked");
  expect(warned.map((l) => l.wamid)).toEqual([...odd.slice(0, 3), odd[3]!.slice(0, 512)].map(logged));
  expect(warned.every((l) => l.level === "warn" && l.reason!.includes("could not be the SMS request's Idempotency-Key"))).toBe(true);
  expect(raw.some((l) => /[\r\n\0]/.test(l))).toBe(false); // one line each: the logger escapes them
});

describe("Retry-After from the SMS provider", () => {
  const slowDown = () => new Response("slow down", { status: 429, headers: { "retry-after": "999999" } });
  const sender = (s: ReturnType<typeof setup>) =>
    new FallbackSender(sqliteSendQueue(s.p.db, s.sweeper.tracker!), parseSmsSettings({ url: `http://127.0.0.1:${s.sms.port}/sms`, retry_schedule: ["1s", "1s", "1s"] }), s.p.clock, quiet, "test");

  test("999999 s asked: the next attempt waits the longest honoured (1 h), not the schedule's 1 s; the timeline says why", async () => {
    const s = setup({ not_after: "3h" }, slowDown);
    await s.deliver(status("wamid.W", "failed", s.t0, { biz_opaque_callback_data: opaque, errors: [{ code: 131026 }] }));
    expect(await sender(s).run(10)).toMatchObject({ claimed: 1, retrying: 1 });
    expect(s.sweeper.tracker!.store.send("wamid.W")).toMatchObject({ state: "pending", next_attempt_at: s.t0 + 3_600_000, provider_status: 429 });
    expect(moves(s, "wamid.W").at(-1)).toEqual({
      state: "waiting",
      provider_status: 429,
      attempts: 1,
      next_attempt_at: new Date(s.t0 + 3_600_000).toISOString(),
      why: "the provider asked to wait 999999 s (Retry-After); waiting 1h, the longest honoured",
    });
    s.p.clock.advance(59 * 60_000);
    expect(await sender(s).run(10)).toMatchObject({ claimed: 0 });
    s.sms.respond = () => new Response("queued");
    s.p.clock.advance(60_000);
    expect(await sender(s).run(10)).toMatchObject({ claimed: 1, sent: 1 });
    expect(s.sms.received).toHaveLength(2);
    expect(s.state("wamid.W")).toBe("fallback_sent");
  });

  test("never past not_after: the wait is cut to the last attempt a second before it, the sender is woken for it, and failing there is final", async () => {
    const s = setup({}, slowDown);
    const wakes: number[] = [];
    const woken = new FallbackSender(sqliteSendQueue(s.p.db, s.sweeper.tracker!), parseSmsSettings({ url: `http://127.0.0.1:${s.sms.port}/sms`, retry_schedule: ["1s", "1s", "1s"] }), s.p.clock, quiet, "test", null, undefined, (at) => wakes.push(at));
    s.sweeper.tracker!.register({ wamid: "wamid.N", to: "16505551234", text: "Your code is 1", category: "authentication", stale_after_ms: null, not_after_ms: 10 * 60_000, fallback: null }, s.t0);
    await s.deliver(status("wamid.N", "failed", s.t0, { errors: [{ code: 131026 }] }));
    await woken.run(10);
    const last = s.t0 + 10 * 60_000 - 1_000;
    expect(s.sweeper.tracker!.store.send("wamid.N")).toMatchObject({ state: "pending", next_attempt_at: last });
    expect(wakes).toEqual([last]);
    expect(moves(s, "wamid.N").at(-1)?.why).toEndWith("; cut to 1 s before not_after, the last attempt");
    s.p.clock.advance(last - s.p.clock.now());
    expect(await woken.run(10)).toMatchObject({ claimed: 1, failed: 1 });
    expect(s.sweeper.tracker!.store.send("wamid.N")).toMatchObject({ state: "failed", attempts: 2, last_error: "provider answered 429; not retried: this was the last attempt before not_after" });
    expect(s.state("wamid.N")).toBe("fallback_failed");
    s.p.clock.advance(3_600_000);
    expect(await sender(s).run(10)).toMatchObject({ claimed: 0 });
    expect(s.sms.received).toHaveLength(2);
  });
});

describe("never an SMS past not_after, however late the sender gets to it", () => {
  const failed = (s: ReturnType<typeof setup>, wamid: string) => s.deliver(status(wamid, "failed", s.t0, { biz_opaque_callback_data: opaque, errors: [{ code: 131026 }] }));
  const fallbackEvents = (s: ReturnType<typeof setup>) =>
    s.p.db.query<{ e: string }, []>("SELECT envelope e FROM events WHERE type = 'message.fallback' ORDER BY id").all().map((r) => (JSON.parse(r.e) as { data: Record<string, unknown> }).data);
  const NOT_AFTER = "2026-11-23T13:00:00.000Z"; // t0 + the setup's not_after, 1h

  test("decided, then the daemon down until after not_after: refused when taken, expired_unsent, why on the timeline and in the event, logged once, no provider failure", async () => {
    const { lines, log } = capturedLog();
    const s = setup({}, undefined, { log, alerts: { sms_failures: 1 } });
    await failed(s, "wamid.L");
    expect(s.state("wamid.L")).toBe("fallback_pending"); // the fallback job would have sent it now; the daemon stopped first
    s.p.clock.advance(3_600_001);
    const run = await s.send();
    expect(run.ran && run.result).toEqual({ claimed: 1, sent: 0, failed: 0, unknown: 0, retrying: 0, expired: 1 });
    expect(s.sms.received).toHaveLength(0);
    expect(s.state("wamid.L")).toBe("expired_unsent");
    const why = "past not_after when the sender took it: not sent, an SMS never goes after it";
    expect(s.sweeper.tracker!.store.send("wamid.L")).toMatchObject({ state: "expired", attempts: 0, provider_status: null, last_error: why, lease_token: null });
    expect(moves(s, "wamid.L").map((m) => m.state)).toEqual(["fallback_pending", "expired_unsent"]);
    expect(moves(s, "wamid.L").at(-1)).toEqual({ state: "expired_unsent", not_after: NOT_AFTER, why });
    expect(fallbackEvents(s)).toEqual([expect.objectContaining({ wamid: "wamid.L", outcome: "not_sent", state: "expired_unsent", attempts: 0, provider_status: null, why })]);
    expect(lines.filter((l) => l.msg === "sms fallback not sent")).toEqual([expect.objectContaining({ level: "info", wamid: logged("wamid.L"), state: "expired_unsent", reason: why })]);
    expect(lines.filter((l) => l.msg === "sms fallback attempt")).toHaveLength(0);
    expect(s.p.count("SELECT count(*) n FROM alerts WHERE kind = 'sms.failing'")).toBe(0); // alerts.sms_failures = 1: a failed attempt would have raised it
    expect(await s.send()).toMatchObject({ ran: true, result: { claimed: 0 } });
  });

  test("a retry due before not_after, taken after it (the daemon down meanwhile): refused; its one real attempt stays on record", async () => {
    const s = setup({}, () => new Response("busy", { status: 503 }));
    await failed(s, "wamid.R2");
    expect(await s.send()).toMatchObject({ result: { claimed: 1, retrying: 1 } }); // next attempt due at t0 + 1 s
    s.p.clock.advance(2 * 3_600_000);
    expect(await s.send()).toMatchObject({ result: { claimed: 1, expired: 1, retrying: 0, failed: 0 } });
    expect(s.sms.received).toHaveLength(1);
    expect(s.state("wamid.R2")).toBe("expired_unsent");
    expect(s.sweeper.tracker!.store.send("wamid.R2")).toMatchObject({ state: "expired", attempts: 1, provider_status: 503 });
    expect(fallbackEvents(s)).toEqual([expect.objectContaining({ outcome: "not_sent", state: "expired_unsent", attempts: 1, provider_status: 503 })]);
  });

  test("the claim of a run that stopped mid-request, taken again past not_after: not resent, unknown (that request may have gone out)", async () => {
    const s = setup();
    await failed(s, "wamid.K2");
    const { tracker } = s.sweeper;
    // A process claimed it and died with its request out (kill -9): its claim stays in the database.
    s.p.db.transaction(() => {
      tracker!.store.claimSends("dead-host:token", s.p.clock.now() + 40_000, s.p.clock.now(), 1);
      tracker!.markSending("wamid.K2", s.p.clock.now());
    })();
    s.p.clock.advance(2 * 3_600_000);
    expect(await s.send()).toMatchObject({ result: { claimed: 1, expired: 1, unknown: 0 } });
    expect(s.sms.received).toHaveLength(0);
    expect(s.state("wamid.K2")).toBe("unknown");
    expect(s.sweeper.tracker!.store.send("wamid.K2")).toMatchObject({ state: "unknown", attempts: 1 });
    const why = "past not_after when the sender took it: not resent; an earlier request (of a run that stopped before its answer) may have reached the provider";
    expect(moves(s, "wamid.K2").at(-1)).toEqual({ state: "unknown", not_after: NOT_AFTER, why });
    expect(fallbackEvents(s)).toEqual([expect.objectContaining({ outcome: "unknown", state: "unknown", attempts: 1, why })]);
    // Resent by hand: refused up front (409), and still never sent past not_after. Marked sent by hand: recorded.
    const ops = adminOps(s.p.db, s.sweeper, []);
    expect(await ops({ op: "resolve", wamid: "wamid.K2", action: "resend" }, s.p.clock.now())).toMatchObject({ status: 409, body: { error: "past_not_after" } });
    expect(await s.send()).toMatchObject({ result: { claimed: 0 } });
    expect(s.sms.received).toHaveLength(0);
    expect(s.sweeper.tracker!.store.send("wamid.K2")).toMatchObject({ state: "unknown", attempts: 1 });
    expect(await ops({ op: "resolve", wamid: "wamid.K2", action: "mark-sent" }, s.p.clock.now())).toMatchObject({ status: 200 });
    expect(s.state("wamid.K2")).toBe("fallback_sent");
  });

  test("at not_after itself the last attempt still goes", async () => {
    const s = setup();
    await failed(s, "wamid.AT");
    s.p.clock.advance(3_600_000);
    expect(await s.send()).toMatchObject({ result: { claimed: 1, sent: 1, expired: 0 } });
    expect(s.state("wamid.AT")).toBe("fallback_sent");
  });
});

describe("the registered number and Meta's recipient_id differ", () => {
  const other = "16505550000";
  const to = (r: { body: string }) => (JSON.parse(r.body) as { to: string }).to;
  const register = (s: ReturnType<typeof setup>, wamid: string) =>
    s.sweeper.tracker!.register({ wamid, to: other, text: "Your code is 1", category: null, stale_after_ms: null, not_after_ms: null, fallback: null }, s.p.clock.now());

  test("registered first: the SMS goes to the registered number; noted and logged once, numbers hashed", async () => {
    const { lines, log } = capturedLog();
    const s = setup({}, undefined, { log });
    register(s, "wamid.M1");
    await s.deliver(status("wamid.M1", "sent", s.t0), status("wamid.M1", "failed", s.t0 + 1_000, { errors: [{ code: 131026 }] }));
    await s.send();
    expect(s.sms.received.map(to)).toEqual([`+${other}`]);
    expect(moves(s, "wamid.M1").filter((m) => m.state === "recipient_mismatch")).toEqual([
      { state: "recipient_mismatch", why: "Meta's recipient_id differs from the registered number: an SMS goes to the registered number" },
    ]);
    const mismatches = lines.filter((l) => l.msg === "sms fallback recipient mismatch");
    expect(mismatches).toHaveLength(1);
    expect(mismatches[0]).toMatchObject({ level: "info", wamid: logged("wamid.M1"), to: expect.stringMatching(/^wa_[0-9a-f]{12}$/), recipient: expect.stringMatching(/^wa_[0-9a-f]{12}$/) });
    expect(JSON.stringify(lines)).not.toMatch(/16505550000|16505551234/);
  });

  test("noticed only after the SMS was requested: the timeline says it went to the registered number, not that it goes", async () => {
    const s = setup();
    register(s, "wamid.M3");
    await s.deliver(status("wamid.M3", "failed", s.t0, { recipient_id: other, errors: [{ code: 131026 }] }));
    await s.send();
    expect(s.state("wamid.M3")).toBe("fallback_sent");
    await s.deliver(status("wamid.M3", "delivered", s.t0 + 60_000));
    expect(moves(s, "wamid.M3").filter((m) => m.state === "recipient_mismatch")).toEqual([
      { state: "recipient_mismatch", why: "Meta's recipient_id differs from the registered number: the SMS was already requested for the registered number" },
    ]);
    expect(s.sms.received.map(to)).toEqual([`+${other}`]);
  });

  test("Meta's status first: a registration while undecided replaces its number; once decided, the decision stands", async () => {
    const s = setup();
    await s.deliver(status("wamid.M2", "sent", s.t0, { biz_opaque_callback_data: opaque }));
    register(s, "wamid.M2");
    expect(s.sweeper.tracker!.store.get("wamid.M2")!.recipient).toBe(other);
    await s.deliver(status("wamid.M3", "failed", s.t0, { biz_opaque_callback_data: opaque, errors: [{ code: 131026 }] }));
    register(s, "wamid.M3");
    expect(s.sweeper.tracker!.store.get("wamid.M3")!.recipient).toBe("16505551234");
    expect(moves(s, "wamid.M3").find((m) => m.state === "recipient_mismatch")?.why).toBe(
      "Meta's recipient_id differs from the number registered after the fallback was decided: it was decided for Meta's recipient_id",
    );
    await s.deliver(status("wamid.M2", "failed", s.t0 + 1_000, { errors: [{ code: 131026 }] }));
    await s.send();
    expect(s.sms.received.map((r) => [r.headers["idempotency-key"], to(r)]).sort()).toEqual([
      ["wamid.M2", `+${other}`],
      ["wamid.M3", "+16505551234"],
    ]);
    expect(moves(s, "wamid.M2").filter((m) => m.state === "recipient_mismatch")).toHaveLength(1);
  });
});

