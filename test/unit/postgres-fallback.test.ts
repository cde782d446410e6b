/**
 * SMS fallback and alerts on the PostgreSQL engine, against a real server and real sinks
 * over loopback, the clock injected: the SQLite engine's promises (docs/fallback.md,
 * docs/alerts.md) kept with several instances sharing the database — one SMS per wamid
 * whichever sweepers and senders run at once, one alert per occurrence, a sender that
 * lost its lease cannot record an outcome.
 */
import { expect, test } from "bun:test";
import { postgresAdminOps } from "../../src/admin/postgres-ops";
import { queueGauges } from "../../src/metrics/gauges";
import { postgresReport } from "../../src/store/postgres/report-store";
import { leaseToken } from "../../src/util/ids";
import { fixture } from "../support/pipeline";
import { migratedDatabase } from "../support/postgres";
import { postgresPipeline } from "../support/postgres-pipeline";
import { sinksStoppedAfterEach } from "../support/sink";
import { statusesPayload } from "../support/webhooks";

const sink = sinksStoppedAfterEach();

const UTILITY = { billable: true, pricing_model: "PMP", category: "utility" };
const status = (id: string, s: string, atMs: number, extra: Record<string, unknown> = {}) => ({ id, status: s, timestamp: String(Math.floor(atMs / 1000)), recipient_id: "16505551234", pricing: UTILITY, ...extra });
const opaque = JSON.stringify({ sms: "Your order shipped" });

async function setup(extra: { alerts?: Record<string, unknown>; fallback?: Record<string, unknown> } = {}) {
  const sms = sink();
  const { sql } = await migratedDatabase(8);
  const p = await postgresPipeline(sql, [], {
    fallback: { enabled: true, stale_after: "1m", not_after: "1h", sms: { url: `http://127.0.0.1:${sms.port}/sms`, retry_schedule: ["1s"] }, ...extra.fallback },
    alerts: extra.alerts,
  });
  const drain = async () => {
    while ((await p.processor.runOnce(100, 1_000)).jobs > 0);
  };
  const deliver = async (...items: Record<string, unknown>[]) => {
    await p.post(statusesPayload(...items));
    await drain();
  };
  const state = async (wamid: string) => (await sql`SELECT state FROM tracked_messages WHERE wamid = ${wamid}`)[0]?.state ?? null;
  const timeline = async (wamid: string) => (await sql`SELECT state FROM tracked_timeline WHERE wamid = ${wamid} ORDER BY seq`).map((r: { state: string }) => r.state);
  const outcomes = async () => (await sql`SELECT envelope::json -> 'data' ->> 'outcome' AS o FROM events WHERE type = 'message.fallback' ORDER BY id`).map((r: { o: string }) => r.o);
  return { p, sql, sms, drain, deliver, state, timeline, outcomes, t0: p.clock.now() };
}

const registration = (wamid: string) => ({ wamid, to: "16505551234", text: "Your code is 1", category: "authentication", stale_after_ms: 60_000, not_after_ms: null, fallback: null });

test("a DEFER failure waits for its deadline, then one SMS, with the same moves and events as on SQLite", async () => {
  const s = await setup();
  await s.deliver(status("wamid.D", "sent", s.t0, { biz_opaque_callback_data: opaque }), status("wamid.D", "failed", s.t0 + 1_000, { errors: [{ code: 131000, title: "Something went wrong" }] }));
  await s.p.job("stale");
  expect(await s.state("wamid.D")).toBe("tracked");
  s.p.clock.advance(61_000);
  expect(await s.p.job("stale")).toMatchObject({ held: false, stale: 1, pending: 1 });
  expect(await s.state("wamid.D")).toBe("fallback_pending");
  expect(await s.p.job("fallback")).toMatchObject({ claimed: 1, sent: 1 });
  expect(s.sms.received.map((r) => r.headers["idempotency-key"])).toEqual(["wamid.D"]);
  expect(await s.state("wamid.D")).toBe("fallback_sent");
  expect(await s.timeline("wamid.D")).toEqual(["stale", "fallback_pending", "sending", "fallback_sent"]);
  expect(await s.outcomes()).toEqual(["sent"]);
  expect(await s.p.count("SELECT count(*) n FROM events WHERE type = 'message.stale'")).toBe(1);
  // They carry the number the message was sent from (hooks filtered by phone_number_ids get them).
  expect(await s.p.count("SELECT count(*) n FROM events WHERE type IN ('message.stale', 'message.fallback') AND phone_number_id = '106540352242922'")).toBe(2);
});

test("delivered after the decision, before the claim: the SMS is cancelled in the status's batch, never sent", async () => {
  const s = await setup();
  await s.deliver(status("wamid.C", "sent", s.t0, { biz_opaque_callback_data: opaque }));
  s.p.clock.advance(61_000);
  await s.p.job("stale");
  expect(await s.state("wamid.C")).toBe("fallback_pending");
  await s.deliver(status("wamid.C", "delivered", s.t0 + 62_000));
  expect(await s.state("wamid.C")).toBe("cancelled_delivered");
  expect(await s.p.job("fallback")).toMatchObject({ claimed: 0 });
  expect(s.sms.received).toHaveLength(0);
  expect(await s.outcomes()).toEqual(["cancelled"]);
});

test("200 fallbacks due at once, three sweepers and three senders at once: one SMS per wamid", async () => {
  // Every deadline undelivered would hold fallback (the outage guard, tested below): this many are meant to go.
  const s = await setup({ fallback: { max_stale_ratio: 1 } });
  const instances = [{ fallback: s.p.fallback, job: s.p.job }, await s.p.newInstance("b"), await s.p.newInstance("c")];
  const wamids = Array.from({ length: 200 }, (_, i) => `wamid.M${String(i).padStart(3, "0")}`);
  await s.p.fallback.register(wamids.map(registration), s.t0);
  s.p.clock.advance(61_000);
  const swept = await Promise.all(instances.map((i) => i.job("stale")));
  expect(swept.reduce((n, r) => n + Number(r.stale), 0)).toBe(200);
  await Promise.all(instances.map((i) => i.job("fallback")));
  // A sender whose claims all lay under another's locks stops; one more round each picks up what is left.
  await Promise.all(instances.map((i) => i.job("fallback")));
  const keys = s.sms.received.map((r) => r.headers["idempotency-key"]);
  expect(keys).toHaveLength(200);
  expect(new Set(keys).size).toBe(200);
  expect(await s.p.count("SELECT count(*) n FROM fallback_sends WHERE state = 'sent'")).toBe(200);
  expect(await s.p.count("SELECT count(*) n FROM events WHERE type = 'message.stale'")).toBe(200);
  expect(await s.p.count("SELECT count(*) n FROM events WHERE type = 'message.fallback'")).toBe(200);
});

test("a sender that lost its lease (paused past it) cannot record its outcome: the token refuses it", async () => {
  const s = await setup();
  await s.p.fallback.register([registration("wamid.L")], s.t0);
  s.p.clock.advance(61_000);
  await s.p.job("stale");
  const real = s.p.fallback.sends;
  const now = s.p.clock.now();
  const slow = leaseToken("a");
  const first = await real.claim(slow, now + 1_000, now, 10);
  expect(first.rows.map((r) => r.wamid)).toEqual(["wamid.L"]);
  s.p.clock.advance(2_000); // the lease ran out: another instance takes the SMS again
  const fast = leaseToken("b");
  const again = await real.claim(fast, s.p.clock.now() + 60_000, s.p.clock.now(), 10);
  expect(again.rows.map((r) => [r.wamid, r.retaken])).toEqual([["wamid.L", 1]]);
  const sent = { state: "sent" as const, status: 200, response: "ok", error: null, retryAt: null };
  expect(await real.finish(first.rows, slow, [sent], s.p.clock.now())).toEqual([false]);
  expect(await real.finish(again.rows, fast, [sent], s.p.clock.now())).toEqual([true]);
  expect(await s.state("wamid.L")).toBe("fallback_sent");
});

test("a template PAUSED processed by two instances: one alert, sent once", async () => {
  const alerts = sink();
  const s = await setup({ alerts: { url: `http://127.0.0.1:${alerts.port}/alerts`, format: "json" } });
  const other = await s.p.newInstance("b");
  await s.p.post(fixture("template_status_paused").payload);
  await s.p.post(fixture("template_status_paused").payload);
  await Promise.all([s.drain(), (async () => {
    while ((await other.processor.runOnce(100, 1_000)).jobs > 0);
  })()]);
  expect(await s.p.count("SELECT count(*) n FROM events WHERE type = 'template.status'")).toBe(1);
  expect(await s.p.count("SELECT count(*) n FROM alerts")).toBe(1);
  await Promise.all([s.p.job("alerts"), other.job("alerts")]);
  expect(alerts.received).toHaveLength(1);
  expect(JSON.parse(alerts.received[0]!.body)).toMatchObject({ kind: "template.paused" });
  expect((await s.sql`SELECT kind, state, attempts FROM alerts`).map((r: Record<string, unknown>) => ({ ...r }))).toEqual([{ kind: "template.paused", state: "sent", attempts: 1 }]);
});

test("the outage guard across instances: most deadlines undelivered holds every fallback once, one fallback.held event and alert", async () => {
  const s = await setup();
  const other = await s.p.newInstance("b");
  await s.p.fallback.register(Array.from({ length: 30 }, (_, i) => registration(`wamid.H${i}`)), s.t0);
  s.p.clock.advance(61_000);
  const runs = await Promise.all([s.p.job("stale"), other.job("stale")]);
  expect(runs).toEqual([
    { held: true, total: 30, stale: 30 },
    { held: true, total: 30, stale: 30 },
  ]);
  expect(await s.p.count("SELECT count(*) n FROM tracked_messages WHERE state = 'tracked'")).toBe(30);
  expect(await s.p.count("SELECT count(*) n FROM events WHERE type = 'fallback.held'")).toBe(1);
  expect(await s.p.count("SELECT count(*) n FROM alerts WHERE kind = 'fallback.held'")).toBe(1);
  await s.p.fallback.resume(s.p.clock.now());
  expect(await s.p.count("SELECT count(*) n FROM job_state WHERE held_since IS NOT NULL")).toBe(0);
});

test("as on SQLite: delivered before the registration means done; never priced and not described means no SMS; a registered message sent to a group is not_sent", async () => {
  const s = await setup({ fallback: { default_text: "We could not reach you on WhatsApp (ref {{wamid}})" } });
  const registration = (wamid: string, category: string | null = null) => ({ wamid, to: "16505551234", text: null, category, stale_after_ms: null, not_after_ms: null, fallback: null });
  await s.deliver(status("wamid.FIRST_DELIVERED", "delivered", s.t0));
  const [registered] = await s.p.fallback.register([registration("wamid.FIRST_DELIVERED", "utility"), registration("wamid.REGISTERED"), registration("wamid.TO_GROUP", "utility")], s.t0);
  expect(registered!.row.state).toBe("done");
  const unpriced = (wamid: string, extra: Record<string, unknown> = {}) => ({ ...status(wamid, "sent", s.t0, extra), pricing: undefined });
  await s.deliver(unpriced("wamid.STATUS_ONLY"), unpriced("wamid.REGISTERED"), unpriced("wamid.TO_GROUP", { recipient_id: "120363000000000088", recipient_type: "group" }));
  expect(await s.state("wamid.TO_GROUP")).toBe("not_sent");
  s.p.clock.advance(61_000);
  await s.p.job("stale");
  await s.p.job("fallback");
  expect(s.sms.received.map((r) => r.headers["idempotency-key"])).toEqual(["wamid.REGISTERED"]);
  expect([await s.state("wamid.FIRST_DELIVERED"), await s.state("wamid.STATUS_ONLY")]).toEqual(["done", "not_sent"]);
  await s.deliver(status("wamid.OPAQUE", "sent", s.t0, { biz_opaque_callback_data: "order-42" }));
  const ops = postgresAdminOps(s.sql, () => null, () => [], async () => [], () => null);
  const shown = await ops({ op: "message", wamid: "wamid.OPAQUE" });
  expect(shown.body).toMatchObject({ recipient_id: "16505551234", biz_opaque_callback_data: "order-42" });
  // /v1/stats and /metrics count them as on SQLite (they read {} on PostgreSQL before).
  expect(((await ops({ op: "stats" })).body as { fallback: unknown }).fallback).toEqual({ tracked: { not_sent: 2, tracked: 1, fallback_sent: 1 }, sms: { sent: 1 } });
  const report = postgresReport(s.sql);
  const gauges = queueGauges({ inbox: {}, lagMs: 0, open: { gone: { dead: 2 } }, tracked: await report.tracked(), overdue: await report.overdue(s.p.clock.now()), sms: await report.sms() }, ["app"]);
  const gauge = (name: string) => gauges.find((g) => g.name === name)!.samples;
  expect(gauge("wa_fallback_sms")).toEqual([{ labels: { state: "sent" }, value: 1 }]);
  expect(gauge("wa_deliveries_orphaned")).toContainEqual({ labels: { hook: "gone", state: "dead" }, value: 2 });
  expect(gauge("wa_deliveries_open").every((x) => x.labels!.hook === "app")).toBe(true);
});
