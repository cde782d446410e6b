/**
 * Operator alerts: which events become alerts (pure), and, on a real SQLite file
 * with a real alert sink over loopback, that each occurrence is sent once, retried
 * like a hook, and never holds up the pipeline.
 */
import { alertStore } from "../../src/store/alert-store";
import { sqliteSendQueue } from "../../src/store/send-queue";
import { describe, expect, test } from "bun:test";
import { alertBody } from "../../src/alerts/format";
import { AlertSender } from "../../src/alerts/sender";
import { AlertsSchema } from "../../src/config/schema";
import { alertForEvent, alertsForEvent, hookDeadAlert } from "../../src/alerts/rules";
import { normalizePayload } from "../../src/whatsapp/normalize";
import { FallbackSender } from "../../src/sweeper/sender";
import { fixture, hook, pipeline, quiet } from "../support/pipeline";
import { closedPort, sinksStoppedAfterEach } from "../support/sink";
import { parseSmsSettings } from "../support/sms";
import type { AlertRow } from "../../src/domain/alert";

const sink = sinksStoppedAfterEach();

const source = (type: string, data: Record<string, unknown>, phoneNumberId: string | null = null) => ({ type, data, dedupKey: `k:${type}`, phoneNumberId, wabaId: "102290129340398" });
const NOW = Date.parse("2026-11-23T12:34:56Z");

describe("which events are alerts", () => {
  test("template PAUSED, DISABLED, REJECTED, FLAGGED are; APPROVED is not", () => {
    const paused = alertForEvent(
      source("template.status", {
        event: "PAUSED",
        message_template_name: "order_confirmation",
        message_template_language: "en_US",
        message_template_category: "UTILITY",
        reason: "NONE",
        other_info: { title: "FIRST_PAUSE", description: "Your WhatsApp message template has been paused." },
      }),
      NOW,
    )!;
    expect(paused).toMatchObject({ kind: "template.paused", severity: "critical", key: "event:k:template.status", title: 'WhatsApp template "order_confirmation" PAUSED' });
    expect(paused.text).toContain("FIRST_PAUSE");
    expect(paused.text).toContain("132015");
    for (const [event, kind] of [["DISABLED", "template.disabled"], ["REJECTED", "template.rejected"], ["flagged", "template.flagged"]]) {
      expect(alertForEvent(source("template.status", { event, message_template_name: "t" }), NOW)?.kind).toBe(kind as never);
    }
    expect(alertForEvent(source("template.status", { event: "APPROVED", message_template_name: "t" }), NOW)).toBeNull();
  });

  test("a notice older than the current state (state_changed false) is none; one that changed it, or carries no such flag, is", () => {
    const paused = (extra: object) => alertForEvent(source("template.status", { event: "PAUSED", message_template_name: "t", ...extra }), NOW);
    expect(paused({ state_changed: false })).toBeNull();
    expect(paused({ state_changed: true })?.kind).toBe("template.paused");
    expect(paused({})?.kind).toBe("template.paused");
    expect(alertForEvent(source("phone_number.quality", { event: "FLAGGED", display_phone_number: "15550783881", state_changed: false }), NOW)).toBeNull();
  });

  test("phone number: a lowered limit or DOWNGRADE is a limit alert, FLAGGED a quality alert, an upgrade nothing", () => {
    expect(alertForEvent(source("phone_number.quality", { display_phone_number: "15550783881", event: "DOWNGRADE", current_limit: "TIER_250", old_limit: "TIER_2K" }), NOW)).toMatchObject({
      kind: "phone_number.limit",
      title: "WhatsApp messaging limit lowered for 15550783881",
    });
    expect(alertForEvent(source("phone_number.quality", { event: "ONBOARDING", current_limit: "TIER_250", old_limit: "TIER_1K" }), NOW)?.kind).toBe("phone_number.limit");
    expect(alertForEvent(source("phone_number.quality", { display_phone_number: "15550783881", event: "FLAGGED", current_limit: "TIER_2K" }), NOW)?.kind).toBe("phone_number.quality");
    expect(alertForEvent(source("phone_number.quality", { event: "UPGRADE", current_limit: "TIER_10K", old_limit: "TIER_2K" }), NOW)).toBeNull();
    // Since February 2026 the limit is max_daily_conversations_per_business: read, in the alert's data and text.
    const flagged = alertForEvent(source("phone_number.quality", { display_phone_number: "15550783881", event: "FLAGGED", max_daily_conversations_per_business: "TIER_2K" }), NOW)!;
    expect([flagged.kind, flagged.data.current_limit, flagged.text]).toEqual(["phone_number.quality", "TIER_2K", expect.stringContaining("(limit TIER_2K)")]);
    expect(alertForEvent(source("phone_number.quality", { event: "THROUGHPUT_UPGRADE", max_daily_conversations_per_business: "TIER_10K" }), NOW)).toBeNull();
  });

  test("a FLAGGED notice that also lowers the limit raises both alerts, each under its own key; any other raises one", () => {
    const both = alertsForEvent(source("phone_number.quality", { display_phone_number: "15550783881", event: "FLAGGED", max_daily_conversations_per_business: "TIER_250", old_limit: "TIER_1K" }), NOW);
    expect(both.map((a) => a.kind)).toEqual(["phone_number.limit", "phone_number.quality"]);
    expect(new Set(both.map((a) => a.key)).size).toBe(2);
    expect(both[1]!.text).toContain("(limit TIER_250)");
    expect(alertsForEvent(source("phone_number.quality", { event: "DOWNGRADE", current_limit: "TIER_250", old_limit: "TIER_2K" }), NOW).map((a) => a.kind)).toEqual(["phone_number.limit"]);
    expect(alertsForEvent(source("phone_number.quality", { event: "UPGRADE", current_limit: "TIER_10K", old_limit: "TIER_2K" }), NOW)).toEqual([]);
  });

  test("account restriction, violation and ban are; a reinstatement and a partner event are not", () => {
    // As normalized from Meta's value: the typed companions the rules read.
    const update = (value: object) => {
      const [event] = normalizePayload({ object: "whatsapp_business_account", entry: [{ id: "102290129340398", time: 1751247548, changes: [{ field: "account_update", value }] }] });
      return alertForEvent({ type: event!.type, data: event!.data, dedupKey: event!.dedupKey, phoneNumberId: null, wabaId: event!.wabaId }, NOW);
    };
    const restriction = { restriction_type: "RESTRICTED_BIZ_INITIATED_MESSAGING", expiration: 1751847548 };
    const restricted = update({ event: "ACCOUNT_RESTRICTION", restriction_info: [restriction] })!;
    expect(restricted).toMatchObject({ kind: "account.restricted", data: { restriction_types: ["RESTRICTED_BIZ_INITIATED_MESSAGING"], expiration: "2025-07-07T00:19:08.000Z" } });
    // One restriction sent as an object, not a list of one: read all the same.
    expect(update({ event: "ACCOUNT_RESTRICTION", restriction_info: restriction })).toMatchObject({ data: { restriction_types: ["RESTRICTED_BIZ_INITIATED_MESSAGING"] } });
    expect(alertForEvent(source("account.update", { event: "ACCOUNT_VIOLATION", violation_info: { violation_type: "ADULT" } }), NOW)?.kind).toBe("account.violation");
    // A ban: the state a string, or the list of one Meta's components page shows; a date as written, or unix seconds.
    const banned = (ban_info: object) => update({ event: "DISABLED_UPDATE", ban_info });
    expect(banned({ waba_ban_state: "DISABLE", waba_ban_date: 1751847548 })).toMatchObject({ data: { ban_date: "2025-07-07T00:19:08.000Z" } });
    expect(banned({ waba_ban_state: "SCHEDULE_FOR_DISABLE", waba_ban_date: "April 17, 2025" })).toMatchObject({ kind: "account.banned", data: { ban_state: "SCHEDULE_FOR_DISABLE", ban_date: "April 17, 2025" } });
    expect(banned({ waba_ban_state: ["SCHEDULE_FOR_DISABLE"], waba_ban_date: "DATE" })).toMatchObject({ kind: "account.banned", data: { ban_state: "SCHEDULE_FOR_DISABLE" } });
    expect(banned({ waba_ban_state: ["DISABLE"] })?.title).toBe("WhatsApp Business Account disabled");
    expect(banned({ waba_ban_state: "REINSTATE" })).toBeNull();
    expect(banned({ waba_ban_state: ["REINSTATE"] })).toBeNull();
    expect(banned({ waba_ban_state: [] })).toBeNull();
    expect(alertForEvent(source("account.update", { event: "PARTNER_ADDED", waba_info: {} }), NOW)).toBeNull();
    expect(alertForEvent(source("account.alert", { alert_info: { alert_severity: "CRITICAL", alert_status: "ACTIVE", alert_type: "OBA_REJECTED" } }), NOW)?.kind).toBe("account.alert");
    expect(alertForEvent(source("account.alert", { alert_info: { alert_severity: "INFORMATIONAL", alert_type: "OBA_APPROVED" } }), NOW)).toBeNull();
  });

  test("the 2026 account_update events, as normalized from Meta's shapes: offboarded and partner removed are critical, reconnected a warning, calling restrictions and pickup rate say so, a pricing tier is nothing", () => {
    const alertOf = (name: string) => {
      const [event] = normalizePayload(fixture(name).payload);
      return alertForEvent({ type: event!.type, data: event!.data, dedupKey: event!.dedupKey, phoneNumberId: event!.phoneNumberId, wabaId: event!.wabaId }, NOW);
    };
    expect(alertOf("account_offboarded")).toMatchObject({ kind: "account.disconnected", severity: "critical", title: "WhatsApp number offboarded", data: { event: "ACCOUNT_OFFBOARDED", reason: null } });
    const removed = alertOf("account_partner_removed")!;
    expect(removed).toMatchObject({ kind: "account.disconnected", severity: "critical", title: "WhatsApp partner removed from the account", data: { event: "PARTNER_REMOVED", reason: "COMPANION_INACTIVITY", initiated_by: "SYSTEM", waba_id: "102290129340398" } });
    expect(removed.text).toContain("Reason: COMPANION_INACTIVITY, initiated by SYSTEM.");
    // Several accounts behind one daemon: the text names the one Meta meant.
    expect(removed.text).toEndWith("Reason: COMPANION_INACTIVITY, initiated by SYSTEM. WhatsApp Business Account 102290129340398.");
    expect(alertOf("account_reconnected")).toMatchObject({ kind: "account.reconnected", severity: "warning" });
    const calling = alertOf("account_calling_restriction")!;
    expect(calling).toMatchObject({ kind: "account.restricted", title: "WhatsApp calling restricted on the account", data: { restriction_types: ["RESTRICTED_USER_INITIATED_CALLING_CALL_BUTTON_HIDDEN"], expiration: "2025-07-07T01:43:20.000Z" } });
    expect(calling.text).toContain("Users cannot call the business");
    expect(calling.text).toContain("Meta says: Answer more calls");
    expect(calling.text).not.toContain("sends fail");
    const pickup = alertOf("account_call_violation")!;
    expect(pickup).toMatchObject({ kind: "account.violation", severity: "warning", data: { violation_type: "USER_INITIATED_CALLS_LOW_PICKUP_RATE" } });
    expect(pickup.text).toContain("call button");
    expect(alertOf("account_disabled")).toMatchObject({ kind: "account.banned", title: "WhatsApp Business Account scheduled to be disabled", data: { ban_date: "April 17, 2025" } });
    expect(alertOf("account_update")).toMatchObject({ kind: "account.restricted", title: "WhatsApp Business Account restricted" });
    expect(alertOf("account_update")!.text).toContain("Affected sends fail.");
    for (const quiet of ["account_volume_tier", "account_intl_eligibility"]) expect(alertOf(quiet)).toBeNull();
    expect(alertForEvent(source("account.update", { event: "ACCOUNT_DELETED" }), NOW)?.kind).toBe("account.disconnected");
    expect(alertForEvent(source("account.update", { event: "constructor" }), NOW)).toBeNull();
  });

  test("one alert per occurrence: PARTNER_REMOVED retried is one key, removed again later another", () => {
    const payload = fixture("account_partner_removed").payload as { entry: { time: number }[] };
    const again = structuredClone(payload);
    again.entry[0]!.time += 86_400;
    const keyOf = (p: unknown) => normalizePayload(p)[0]!.dedupKey;
    expect(keyOf(structuredClone(payload))).toBe(keyOf(payload));
    expect(keyOf(again)).not.toBe(keyOf(payload));
  });

  test("a failure that is the business's problem is one alert per code, number and hour; a recipient's problem is none", () => {
    const failed = (code: number) => source("message.status", { wamid: "wamid.1", status: "failed", recipient_id: "16505551234", errors: [{ code, title: "Template paused" }] }, "106540352242922");
    const a = alertForEvent(failed(132015), NOW)!;
    expect(a).toMatchObject({ kind: "message.business_error", key: "business_error:106540352242922:132015:1795435200000", data: { code: 132015, phone_number_id: "106540352242922" } });
    expect(JSON.stringify(a)).not.toContain("16505551234"); // the recipient's number stays out
    expect(alertForEvent(failed(132015), NOW + 60_000)!.key).toBe(a.key);
    expect(alertForEvent(failed(132015), NOW + 3_600_000)!.key).not.toBe(a.key);
    expect(alertForEvent(failed(131026), NOW)).toBeNull();
    expect(alertForEvent(source("message.status", { status: "delivered" }), NOW)).toBeNull();
  });

  test("a hook answering 410 Gone: the alert says the delivery is not retried and how to send it again, not retry-dead (which takes dead ones)", () => {
    const gone = hookDeadAlert({ hook: "crm", eventId: "evt_1", reason: "HTTP 410", gone: true }, NOW);
    expect(gone.text).toContain('answered 410 Gone for event evt_1: that delivery is not retried (state disabled)');
    expect(gone.text).toContain("POST /v1/deliveries/{id}/retry");
    expect(gone.text).not.toContain("retry-dead");
  });

  test("slack format is one readable text; json carries the facts", () => {
    const draft = hookDeadAlert({ hook: "crm", eventId: "evt_1", reason: "HTTP 500", gone: false }, NOW);
    const row: AlertRow = { id: 7, kind: draft.kind, dedup_key: draft.key, severity: draft.severity, title: draft.title, text: draft.text, data: JSON.stringify(draft.data), state: "pending", attempts: 1, last_status: null, last_error: null, created_at: NOW, sent_at: null };
    const slack = JSON.parse(alertBody("slack", row));
    expect(Object.keys(slack)).toEqual(["text"]);
    expect(slack.text).toStartWith(':rotating_light: *Hook "crm" is dead-lettering events*\n');
    expect(slack.text).toContain("wa-webhookd retry-dead --hook crm");
    expect(JSON.parse(alertBody("json", row))).toMatchObject({ id: 7, kind: "hook.dead", severity: "critical", data: { hook: "crm", event_id: "evt_1" }, created_at: "2026-11-23T12:34:56.000Z" });
    // What Meta relays is shown as written: no @channel, no link hiding its address (Slack's own escaping).
    const relayed = { ...row, text: "FIRST_PAUSE; <!channel> Re-verify at <https://evil.example/login|business.facebook.com> & more" };
    expect(JSON.parse(alertBody("slack", relayed)).text).toEndWith("FIRST_PAUSE; &lt;!channel&gt; Re-verify at &lt;https://evil.example/login|business.facebook.com&gt; &amp; more");
  });
});

describe("alerts on a real database and a real sink", () => {
  test("template PAUSED posted twice: one alert, sent at once in Slack format", async () => {
    const alerts = sink();
    const p = pipeline([], { alerts: { url: alerts.url, format: "slack" } });
    p.post(fixture("template_status_paused").payload);
    p.post(fixture("template_status_paused").payload);
    while ((await p.processor.runOnce()).jobs > 0);
    expect(p.count("SELECT count(*) n FROM events WHERE type = 'template.status'")).toBe(1);
    expect(await p.sweeper.jobs.run("alerts")).toMatchObject({ ran: true, result: { claimed: 1, sent: 1 } });
    expect(await p.sweeper.jobs.run("alerts")).toMatchObject({ ran: true, result: { claimed: 0 } });
    expect(alerts.received).toHaveLength(1);
    expect(JSON.parse(alerts.received[0]!.body).text).toContain('WhatsApp template "order_confirmation" PAUSED');
    expect(p.db.query("SELECT kind, state, attempts FROM alerts").all()).toEqual([{ kind: "template.paused", state: "sent", attempts: 1 }]);
  });

  test("a PAUSED that Meta retried after the later APPROVED, or a FLAGGED after the later UNFLAGGED: an event each, no alert", async () => {
    const p = pipeline([], { alerts: { url: sink().url } });
    const notice = (field: string, time: number, value: object) => ({ object: "whatsapp_business_account", entry: [{ id: "102290129340398", time, changes: [{ field, value }] }] });
    const template = (event: string, time: number) => notice("message_template_status_update", time, { event, message_template_id: 901, message_template_name: "t", message_template_language: "en_US", reason: "NONE" });
    const quality = (event: string, time: number) => notice("phone_number_quality_update", time, { display_phone_number: "15550783881", event, current_limit: "TIER_1K" });
    for (const body of [template("APPROVED", 1751900200), template("PAUSED", 1751900100), quality("UNFLAGGED", 1751900300), quality("FLAGGED", 1751900250)]) p.post(body);
    while ((await p.processor.runOnce()).jobs > 0);
    expect(p.count("SELECT count(*) n FROM events")).toBe(4);
    expect(p.db.query("SELECT kind FROM alerts").all()).toEqual([]);
    // The same PAUSED when it is the news: an alert.
    p.post(template("PAUSED", 1751900400));
    while ((await p.processor.runOnce()).jobs > 0);
    expect(p.db.query("SELECT kind FROM alerts").all()).toEqual([{ kind: "template.paused" }]);
  });

  test("an account DISABLE retried after the later REINSTATE, or an OFFBOARDED after the later RECONNECTED: an event each, state_changed false, no alert", async () => {
    const p = pipeline([], { alerts: { url: sink().url } });
    const update = (time: number, value: object) => ({ object: "whatsapp_business_account", entry: [{ id: "102290129340398", time, changes: [{ field: "account_update", value }] }] });
    const ban = (state: string, time: number) => update(time, { event: "DISABLED_UPDATE", ban_info: { waba_ban_state: [state], waba_ban_date: "December 5, 2026" } });
    for (const body of [ban("REINSTATE", 1751400000), ban("DISABLE", 1751399000), update(1751410000, { event: "ACCOUNT_RECONNECTED" }), update(1751409000, { event: "ACCOUNT_OFFBOARDED" })]) p.post(body);
    while ((await p.processor.runOnce()).jobs > 0);
    const changed = p.db.query<{ v: number | null }, []>("SELECT json_extract(envelope, '$.data.state_changed') v FROM events ORDER BY id").all().map((r) => r.v);
    expect(changed).toEqual([1, 0, 1, 0]);
    expect(p.db.query("SELECT kind FROM alerts").all()).toEqual([{ kind: "account.reconnected" }]);
    // The same DISABLE when it is the news: the critical alert.
    p.post(ban("DISABLE", 1751420000));
    while ((await p.processor.runOnce()).jobs > 0);
    expect(p.db.query<{ kind: string }, []>("SELECT kind FROM alerts ORDER BY id").all().map((r) => r.kind)).toEqual(["account.reconnected", "account.banned"]);
  });

  test("a limit lowered under the 2026 field (no old_limit): told by the limit the number had, whatever the event and however Meta writes the number", async () => {
    const p = pipeline([], { alerts: { url: sink().url } });
    const quality = (time: number, display: string, value: object) => ({ object: "whatsapp_business_account", entry: [{ id: "102290129340398", time, changes: [{ field: "phone_number_quality_update", value: { display_phone_number: display, ...value } }] }] });
    p.post(quality(1751900000, "15550783881", { event: "THROUGHPUT_UPGRADE", max_daily_conversations_per_business: "TIER_100K" }));
    p.post(quality(1751900100, "+1 555-078-3881", { event: "LIMIT_CHANGED", max_daily_conversations_per_business: "TIER_2K" }));
    p.post(quality(1751900200, "15550783881", { event: "FLAGGED", max_daily_conversations_per_business: 250 }));
    while ((await p.processor.runOnce()).jobs > 0);
    const previous = p.db.query<{ v: string | null }, []>("SELECT json_extract(envelope, '$.data.previous_limit') v FROM events ORDER BY id").all().map((r) => r.v);
    expect(previous).toEqual([null, "TIER_100K", "TIER_2K"]);
    expect(p.db.query<{ kind: string }, []>("SELECT kind FROM alerts ORDER BY id").all().map((r) => r.kind)).toEqual(["phone_number.limit", "phone_number.limit", "phone_number.quality"]);
    expect(p.count("SELECT count(DISTINCT subject_id) n FROM state_values WHERE subject = 'phone_number'")).toBe(1); // one number, however written
  });

  test("a limit sent as a number or its digits under either key, current_limit included, is read as its tier: the drop is told, previous_limit names a tier", async () => {
    const p = pipeline([], { alerts: { url: sink().url } });
    const quality = (time: number, value: object) => ({ object: "whatsapp_business_account", entry: [{ id: "102290129340398", time, changes: [{ field: "phone_number_quality_update", value: { display_phone_number: "15550783881", ...value } }] }] });
    p.post(quality(100, { event: "ONBOARDING", max_daily_conversations_per_business: "TIER_10K" }));
    p.post(quality(110, { event: "UPGRADE", current_limit: 2000 }));
    p.post(quality(120, { event: "ONBOARDING", max_daily_conversations_per_business: "TIER_100K" }));
    p.post(quality(130, { event: "LIMIT_CHANGED", current_limit: "250" }));
    while ((await p.processor.runOnce()).jobs > 0);
    const rows = p.db.query<{ changed: number | null; previous: string | null }, []>("SELECT json_extract(envelope, '$.data.state_changed') changed, json_extract(envelope, '$.data.previous_limit') previous FROM events ORDER BY id").all();
    expect(rows).toEqual([
      { changed: 1, previous: null },
      { changed: 1, previous: "TIER_10K" },
      { changed: 1, previous: "TIER_2K" },
      { changed: 1, previous: "TIER_100K" },
    ]);
    // 10K → 2K and 100K → 250 are drops, whatever the event says.
    expect(p.db.query<{ kind: string }, []>("SELECT kind FROM alerts ORDER BY id").all().map((r) => r.kind)).toEqual(["phone_number.limit", "phone_number.limit"]);
  });

  test("alert sink down, then failing, then up: retried on the schedule, sent once", async () => {
    const alerts = sink();
    let answers = 0;
    alerts.respond = () => new Response("no", { status: ++answers === 1 ? 500 : 200 });
    const p = pipeline([], { alerts: { url: alerts.url } });
    const sender = (url: string) => new AlertSender(alertStore(p.db), { ...AlertsSchema.parse({ url, retry_schedule: ["10s", "10s"] }), url }, p.clock, quiet, "test", () => 1);
    p.post(fixture("account_update").payload);
    while ((await p.processor.runOnce()).jobs > 0);
    expect(await sender(`http://127.0.0.1:${closedPort()}/alert`).run(10)).toMatchObject({ claimed: 1, retrying: 1 }); // refused
    expect(await sender(alerts.url).run(10)).toMatchObject({ claimed: 0 }); // not due yet
    p.clock.advance(10_000);
    expect(await sender(alerts.url).run(10)).toMatchObject({ claimed: 1, retrying: 1 }); // 500
    p.clock.advance(10_000);
    expect(await sender(alerts.url).run(10)).toMatchObject({ claimed: 1, sent: 1 });
    p.clock.advance(60_000);
    expect(await sender(alerts.url).run(10)).toMatchObject({ claimed: 0 });
    expect(alerts.received.map((r) => JSON.parse(r.body).kind)).toEqual(["account.restricted", "account.restricted"]);
    expect(new Set(alerts.received.map((r) => r.headers["idempotency-key"])).size).toBe(1);
    expect(p.db.query("SELECT state, attempts, last_status FROM alerts").get()).toEqual({ state: "sent", attempts: 3, last_status: 200 });
  });

  test("without a url, or for a kind not in `events`: recorded and logged, never sent", async () => {
    const alerts = sink();
    const p = pipeline([], { alerts: { url: alerts.url, events: ["template.*"] } });
    p.post(fixture("phone_number_quality").payload);
    p.post(fixture("template_status_paused").payload);
    while ((await p.processor.runOnce()).jobs > 0);
    await p.sweeper.jobs.run("alerts");
    expect(p.db.query("SELECT kind, state FROM alerts ORDER BY id").all()).toEqual([
      { kind: "phone_number.limit", state: "recorded" },
      { kind: "template.paused", state: "sent" },
    ]);
    expect(alerts.received).toHaveLength(1);

    const off = pipeline();
    off.post(fixture("template_status_paused").payload);
    while ((await off.processor.runOnce()).jobs > 0);
    expect(off.sweeper.jobs.names()).not.toContain("alerts");
    expect(off.db.query("SELECT kind, state FROM alerts").all()).toEqual([{ kind: "template.paused", state: "recorded" }]);
  });

  test("a hook going dead: one alert per hook and day, however many deliveries die", async () => {
    const crm = sink();
    crm.respond = () => new Response("down", { status: 500 });
    const p = pipeline([hook({ name: "crm", url: crm.url, retry_schedule: ["1s"] })]);
    p.post(fixture("message_text").payload);
    p.post(fixture("message_image").payload);
    while ((await p.processor.runOnce()).jobs > 0);
    await p.dispatcher.drain();
    p.clock.advance(1_000);
    await p.dispatcher.drain();
    await p.dispatcher.flush();
    expect(p.count("SELECT count(*) n FROM deliveries WHERE state = 'dead'")).toBe(2);
    expect(p.db.query("SELECT kind, title FROM alerts").all()).toEqual([{ kind: "hook.dead", title: 'Hook "crm" is dead-lettering events' }]);
  });

  test("a hook answering 410 Gone: the delivery disabled at once, the alert saying so (not retry-dead)", async () => {
    const crm = sink();
    crm.respond = () => new Response("gone", { status: 410 });
    const p = pipeline([hook({ name: "crm", url: crm.url, retry_schedule: ["1s"] })]);
    p.post(fixture("message_text").payload);
    while ((await p.processor.runOnce()).jobs > 0);
    await p.dispatcher.drain();
    await p.dispatcher.flush();
    expect(p.count("SELECT count(*) n FROM deliveries WHERE state = 'disabled'")).toBe(1);
    const [alert] = p.db.query("SELECT kind, text FROM alerts").all() as { kind: string; text: string }[];
    expect(alert).toMatchObject({ kind: "hook.dead" });
    expect(alert!.text).toContain('Hook "crm" answered 410 Gone');
    expect(alert!.text).not.toContain("retry-dead");
  });

  test("the SMS provider failing 3 attempts in a row: one sms.failing alert", async () => {
    const alerts = sink();
    const p = pipeline([], {
      alerts: { url: alerts.url, sms_failures: 3 },
      fallback: { enabled: true, sms: { url: `http://127.0.0.1:${closedPort()}/sms`, retry_schedule: ["1s", "1s", "1s", "1s", "1s"] } },
    });
    const failed = (id: string) => ({
      object: "whatsapp_business_account",
      entry: [{ id: "1", changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata: { phone_number_id: "106540352242922" }, statuses: [{ id, status: "failed", timestamp: String(Math.floor(p.clock.now() / 1000)), recipient_id: "16505551234", biz_opaque_callback_data: JSON.stringify({ sms: "code 1234" }), errors: [{ code: 131026 }] }] } }] }],
    });
    p.post(failed("wamid.F1"));
    p.post(failed("wamid.F2"));
    while ((await p.processor.runOnce()).jobs > 0);
    const sender = new FallbackSender(sqliteSendQueue(p.db, p.sweeper.tracker!), parseSmsSettings({ url: `http://127.0.0.1:${closedPort()}/sms`, retry_schedule: ["1s", "1s", "1s"] }), p.clock, quiet, "test", {
      alerter: p.sweeper.alerter,
      after: 3,
    });
    expect(await sender.run(10)).toMatchObject({ retrying: 2 });
    expect(p.count("SELECT count(*) n FROM alerts")).toBe(0);
    p.clock.advance(1_000);
    await sender.run(10); // attempts 3 and 4 in a row
    p.clock.advance(1_000);
    await sender.run(10);
    expect(p.db.query("SELECT kind, title FROM alerts").all()).toEqual([{ kind: "sms.failing", title: "SMS provider failing: 3 attempts in a row" }]);
    await p.sweeper.jobs.run("alerts");
    expect(alerts.received.map((r) => JSON.parse(r.body).kind)).toEqual(["sms.failing"]);
  });
});
