/** The pure parts of SMS fallback: code policy, app instructions, the SMS request, the state machine, send verdicts, the outage guard. */
import { describe, expect, test } from "bun:test";
import { FallbackSchema } from "../../src/config/schema";
import { parseInstructions, readInstructions } from "../../src/sweeper/instructions";
import { categoryAllowed, codePolicy } from "../../src/domain/fallback-policy";
import { classifyAnswer, retryOrFail } from "../../src/sweeper/sender";
import { smsRequest } from "../../src/sweeper/sms-request";
import { guardTrips } from "../../src/sweeper/sweep";
import { decideFallback, onDelivered, onExpiredClaim, smsText, withDeadline } from "../../src/sweeper/transitions";
import { pastNotAfter, type TrackedRow } from "../../src/domain/tracked";

const settings = FallbackSchema.parse({ stale_after: "15m", stale_after_by_category: { authentication: "11m" }, not_after: "2h" });
const T0 = Date.parse("2026-11-23T12:00:00Z");
const row = (over: Partial<TrackedRow> = {}): TrackedRow => ({
  wamid: "wamid.X", recipient: "16505551234", text: "code 123", category: "authentication", stale_after_ms: null, not_after_ms: null, fallback: "auto",
  sent_at: T0, registered_at: null, delivered_at: null, deadline: null, expires_at: null, state: "tracked", reason: null, error_code: null, phone_number_id: null, ...over,
});

describe("code policy", () => {
  test("defaults from the reference's table", () => {
    expect(codePolicy(131026, settings)).toBe("immediate");
    expect(codePolicy(132001, settings)).toBe("immediate");
    expect(codePolicy(131050, settings)).toBe("never");
    expect(codePolicy(131049, settings)).toBe("never");
    expect(codePolicy(130429, settings)).toBe("defer");
    expect(codePolicy(131000, settings)).toBe("defer");
    expect(codePolicy(null, settings)).toBe("defer");
    expect(codePolicy(999_999, settings)).toBe("immediate"); // unknown: it did fail
  });
  test("config replaces the lists", () => {
    expect(codePolicy(131026, { never_codes: [131026] })).toBe("never");
    expect(codePolicy(131000, { immediate_codes: [131000] })).toBe("immediate");
  });
  test("marketing falls back only when listed; Meta's two spellings of a category are one", () => {
    expect(categoryAllowed("marketing", settings)).toBe(false);
    expect(categoryAllowed("marketing", { categories: ["marketing"] })).toBe(true);
    expect(categoryAllowed("authentication-international", { categories: ["authentication_international"] })).toBe(true);
    expect(categoryAllowed(null, settings)).toBe(true);
  });
  test("authentication covers an OTP priced authentication-international, marketing covers marketing_lite; a narrower name only itself", () => {
    expect(categoryAllowed("authentication-international", settings)).toBe(true); // the default list says authentication
    expect(categoryAllowed("AUTHENTICATION_INTERNATIONAL", { categories: ["Authentication"] })).toBe(true);
    expect(categoryAllowed("marketing_lite", { categories: ["marketing"] })).toBe(true);
    expect(categoryAllowed("marketing_lite", settings)).toBe(false);
    expect(categoryAllowed("authentication", { categories: ["authentication-international"] })).toBe(false);
    expect(categoryAllowed("marketing", { categories: ["marketing_lite"] })).toBe(false);
    expect(categoryAllowed("referral_conversion", settings)).toBe(false);
    expect(categoryAllowed("referral_conversion", { categories: ["referral_conversion"] })).toBe(true);
  });
});

test("biz_opaque_callback_data: our JSON is read, anything else ignored", () => {
  expect(parseInstructions('{"sms":"hi","stale_after":"2m","not_after":"10m","fallback":"never"}')).toEqual({ sms: "hi", stale_after: 120_000, not_after: 600_000, fallback: "never" });
  expect(parseInstructions("order-42")).toBeNull();
  expect(parseInstructions('{"order":42}')).toBeNull();
  // Ours, with a field not understood: that field is left out and said; the rest counts (the OTP keeps its text).
  expect(readInstructions('{"stale_after":"soon"}')).toEqual({ instructions: {}, problems: ["stale_after: not a duration"] });
  expect(readInstructions('{"sms":"Your code is 123456","stale_after":120,"not_after":"41d"}')).toEqual({
    instructions: { sms: "Your code is 123456" },
    problems: ["stale_after: Invalid input: expected string, received number", "not_after: longer than a fallback may wait"],
  });
  expect(parseInstructions("{not json")).toBeNull();
  expect(parseInstructions(null)).toBeNull();
});

test("the SMS request escapes the text for its encoding, so it cannot change the request's shape", () => {
  const fields = { to: "16505551234", text: 'a "quote" & b=c\nnew line', wamid: "wamid.X", reason: "stale", error_code: null, category: "utility" };
  const sms = FallbackSchema.parse({ enabled: true, sms: { url: "https://sms.example/send" } }).sms!;
  const json = smsRequest(sms, fields);
  expect(JSON.parse(json.body)).toEqual({ to: "+16505551234", text: fields.text, ref: "wamid.X" });
  expect(json.headers["idempotency-key"]).toBe("wamid.X");
  const form = smsRequest({ ...sms, content_type: "form", body: { To: "+{{to}}", Body: "{{text}}" } }, fields);
  expect(form.headers["content-type"]).toBe("application/x-www-form-urlencoded");
  expect(Object.fromEntries(new URLSearchParams(form.body))).toEqual({ To: "+16505551234", Body: fields.text });
});

describe("state machine", () => {
  test("deadline from Meta's sent time: per message, else category, else default; not_after likewise", () => {
    expect(withDeadline(row(), settings)).toMatchObject({ deadline: T0 + 11 * 60_000, expires_at: T0 + 2 * 3_600_000 });
    expect(withDeadline(row({ category: "utility" }), settings).deadline).toBe(T0 + 15 * 60_000);
    expect(withDeadline(row({ stale_after_ms: 60_000 }), settings).deadline).toBe(T0 + 60_000);
    expect(withDeadline(row({ sent_at: null, registered_at: T0 + 5 }), settings).deadline).toBe(T0 + 5 + 11 * 60_000);
  });
  test("a category's wait in Meta's spellings is found; a send priced apart takes its family's wait unless it has its own", () => {
    const waits = FallbackSchema.parse({ stale_after: "15m", stale_after_by_category: { "Authentication-International": "12m", Marketing: "1h" } });
    expect(waits.stale_after_by_category).toEqual({ authentication_international: "12m", marketing: "1h" });
    expect(withDeadline(row({ category: "authentication-international" }), waits).deadline).toBe(T0 + 12 * 60_000);
    expect(withDeadline(row({ category: "authentication" }), waits).deadline).toBe(T0 + 15 * 60_000);
    expect(withDeadline(row({ category: "MARKETING_LITE" }), waits).deadline).toBe(T0 + 3_600_000);
    expect(withDeadline(row({ category: "authentication-international" }), settings).deadline).toBe(T0 + 11 * 60_000); // authentication's
  });
  test("proof of delivery: done, cancelled before the claim, late after the SMS; never backwards", () => {
    expect(onDelivered(row(), T0, false).state).toBe("done");
    expect(onDelivered(row({ state: "fallback_pending" }), T0, true).state).toBe("cancelled_delivered");
    expect(onDelivered(row({ state: "sending" }), T0, true).state).toBe("cancelled_delivered"); // between retries: not sent yet
    expect(onDelivered(row({ state: "fallback_sent" }), T0, false).state).toBe("late_delivered");
    expect(onDelivered(row({ state: "unknown" }), T0, false).state).toBe("late_delivered");
    expect(onDelivered(row({ state: "sending" }), T0, false)).toMatchObject({ state: "sending", delivered_at: T0 });
    expect(onDelivered(row({ state: "not_sent" }), T0, false).state).toBe("not_sent");
    // The deadline stays: the outage guard counts delivered messages too.
    expect(onDelivered(row({ deadline: T0 + 5 }), T0, false).deadline).toBe(T0 + 5);
  });
  test("the decision's guards: never, category, no phone number, past not_after, no text; shadow mode", () => {
    const at = (r: TrackedRow, now = T0 + 1) => decideFallback(withDeadline(r, settings), "stale", null, now, settings, true).row.state;
    expect(at(row())).toBe("fallback_pending");
    expect(at(row({ fallback: "never" }))).toBe("not_sent");
    expect(at(row({ category: "marketing" }))).toBe("not_sent");
    expect(at(row({ recipient: null }))).toBe("not_sent");
    expect(at(row(), T0 + 3 * 3_600_000)).toBe("expired_unsent");
    expect(at(row({ text: null }))).toBe("no_text");
    expect(decideFallback(row(), "stale", null, T0, { ...settings, mode: "shadow" }, true).row.state).toBe("shadowed");
  });
  test("no category known: an SMS only for a message the app described (registered, or its own text or waits in biz_opaque_callback_data)", () => {
    const generic = { ...settings, default_text: "We could not reach you on WhatsApp (ref {{wamid}})" };
    const statusOnly = row({ text: null, category: null, stale_after_ms: null, not_after_ms: null });
    const decide = (r: TrackedRow, registered: boolean) => decideFallback(withDeadline(r, generic), "stale", null, T0 + 1, generic, registered);
    // Seen only through statuses, priced on delivered (2026): it could be marketing.
    expect(decide(statusOnly, false)).toMatchObject({ row: { state: "not_sent" }, why: expect.stringContaining("category unknown") });
    expect(decide(statusOnly, true).row.state).toBe("fallback_pending"); // registered without a category
    expect(decide({ ...statusOnly, text: "code 123" }, false).row.state).toBe("fallback_pending"); // sms in biz_opaque_callback_data
    expect(decide({ ...statusOnly, stale_after_ms: 60_000 }, false).row.state).toBe("fallback_pending");
    expect(decide({ ...statusOnly, category: "utility" }, false).row.state).toBe("fallback_pending"); // a CBP `sent` said its category
    expect(decide({ ...statusOnly, category: "marketing" }, true).row.state).toBe("not_sent");
    const anyway = { ...generic, unknown_category: "send" as const };
    expect(decideFallback(withDeadline(statusOnly, anyway), "stale", null, T0 + 1, anyway, false)).toMatchObject({ row: { state: "fallback_pending" }, text: "We could not reach you on WhatsApp (ref wamid.X)" });
  });
  test("an SMS taken past not_after is never sent: expired_unsent, or unknown when an earlier request may have gone out", () => {
    expect([pastNotAfter(T0, T0 - 1), pastNotAfter(T0, T0), pastNotAfter(T0, T0 + 1), pastNotAfter(null, T0 + 1e12)]).toEqual([false, false, true, false]);
    expect(onExpiredClaim(row({ state: "fallback_pending" }), false)).toMatchObject({ row: { state: "expired_unsent" }, sms: "expired", why: expect.stringContaining("not sent") });
    expect(onExpiredClaim(row({ state: "sending" }), false)).toMatchObject({ row: { state: "expired_unsent" }, sms: "expired" }); // between retries: none got through
    expect(onExpiredClaim(row({ state: "sending" }), true)).toMatchObject({ row: { state: "unknown" }, sms: "unknown", why: expect.stringContaining("of a run that stopped") });
    expect(onExpiredClaim(row({ state: "unknown" }), false)).toMatchObject({ row: { state: "unknown" }, sms: "unknown" }); // resent by hand
    expect(onExpiredClaim(row({ state: "late_delivered" }), false).row.state).toBe("late_delivered"); // never backwards
  });
  test("SMS text: own text, wrapped in default_text when it holds {{text}}; never empty", () => {
    const wrap = { ...settings, default_text: "We could not reach you on WhatsApp: {{text}}" };
    expect(smsText(row(), wrap)).toBe("We could not reach you on WhatsApp: code 123");
    expect(smsText(row({ text: null }), wrap)).toBeNull();
    expect(smsText(row({ text: null }), { ...settings, default_text: "Please check WhatsApp" })).toBe("Please check WhatsApp");
    expect(smsText(row(), settings)).toBe("code 123");
  });
  test("default_text fills every placeholder of the SMS body, with or without a text of the message's own", () => {
    const standIn = { ...settings, default_text: "{{wamid}} to +{{to}}: {{category}} message, {{reason}} {{error_code}}" };
    const failed = (r: TrackedRow, s: typeof settings = standIn) => decideFallback(withDeadline(r, s), "failed", 131026, T0 + 1, s, true);
    expect(failed(row({ text: null }))).toMatchObject({ text: "wamid.X to +16505551234: authentication message, failed 131026", row: { state: "fallback_pending" } });
    expect(failed(row())).toMatchObject({ text: "code 123" }); // its own text needs no stand-in
    const wrap = { ...settings, default_text: "{{ text }} (ref {{wamid}}, {{reason}})" };
    expect(failed(row(), wrap).text).toBe("code 123 (ref wamid.X, failed)");
    expect(failed(row({ text: null }), wrap)).toMatchObject({ row: { state: "no_text" }, why: expect.stringContaining("holds {{text}}, so it only wraps one") });
    expect(failed(row({ text: null }), settings).why).toContain("fallback.default_text is not set");
  });
});

test("a placeholder that is not one of ours, a category that is not Meta's, a wait past 40d: config errors naming the key", () => {
  const problems = (input: Record<string, unknown>) => FallbackSchema.safeParse(input).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];
  expect(problems({ default_text: "Code {{wamdi}}" })).toEqual(["default_text: unknown placeholder {{wamdi}}; the placeholders are {{to}} {{text}} {{wamid}} {{reason}} {{error_code}} {{category}}"]);
  expect(problems({ sms: { url: "https://sms.example/send", body: { to: "{{phone}}" } } })[0]).toStartWith("sms.body.to: unknown placeholder {{phone}}");
  expect(problems({ categories: ["utilty"] })[0]).toStartWith("categories.0: expected one of authentication, authentication_international, marketing,");
  expect(problems({ stale_after_by_category: { marketingX: "1h" } })[0]).toStartWith("stale_after_by_category.marketingX: not a category");
  expect(problems({ categories: ["group_marketing"] })).toEqual([
    "categories.0: expected one of authentication, authentication_international, marketing, marketing_lite, referral_conversion, service, utility (Meta's pricing categories of 1:1 sends; any case, - or _; group sends are not tracked)",
  ]);
  expect(problems({ stale_after_by_category: { "authentication-international": "1h", authentication_international: "2h" } })).toEqual(["stale_after_by_category.authentication_international: the same category as authentication-international: give it once"]);
  expect(problems({ categories: ["utility", "UTILITY"] })).toEqual(["categories.1: the same category as utility: give it once"]);
  expect(problems({ not_after: "99999999999h" })).toEqual(['not_after: must be at most "40d" (Meta\'s longest time to live, 30 days, and its 7 days of webhook retries)']);
  expect(problems({ categories: ["AUTHENTICATION", "authentication-international"], stale_after_by_category: { Marketing: "40d" }, default_text: "See WhatsApp ({{ wamid }})" })).toEqual([]);
  expect(problems({ categories: ["Marketing_Lite", "referral-conversion", "authentication_international"], stale_after_by_category: { "MARKETING-LITE": "1h", referral_conversion: "2h" } })).toEqual([]);
  // A wait no fallback takes is left out (said, and logged when the message is first seen); the text still counts.
  expect(readInstructions('{"sms":"hi","stale_after":"41d"}')).toEqual({ instructions: { sms: "hi" }, problems: ["stale_after: longer than a fallback may wait"] });
});

test("send verdicts: 2xx sent, 4xx final but 408/429, 5xx retried until the schedule runs out", () => {
  const schedule = ["5s", "30s"];
  expect(classifyAnswer(202, 1, schedule, T0)).toEqual({ state: "sent", retryAt: null });
  expect(classifyAnswer(422, 1, schedule, T0)).toEqual({ state: "failed", retryAt: null });
  expect(classifyAnswer(429, 1, schedule, T0)).toEqual({ state: "pending", retryAt: T0 + 5_000 }); // rate limited: the SMS is still owed
  expect(classifyAnswer(408, 2, schedule, T0)).toEqual({ state: "pending", retryAt: T0 + 30_000 });
  expect(classifyAnswer(503, 1, schedule, T0)).toEqual({ state: "pending", retryAt: T0 + 5_000 });
  expect(classifyAnswer(503, 2, schedule, T0)).toEqual({ state: "pending", retryAt: T0 + 30_000 });
  expect(classifyAnswer(503, 3, schedule, T0)).toEqual({ state: "failed", retryAt: null });
});

describe("Retry-After from the SMS provider", () => {
  const schedule = ["5s", "30s"];
  const H = 3_600_000;
  test("honoured on 429 and 503 when longer than the schedule's step, as for hooks; not on other answers", () => {
    expect(classifyAnswer(429, 1, schedule, T0, { retryAfterMs: 120_000 })).toEqual({ state: "pending", retryAt: T0 + 120_000, why: "the provider asked to wait 120 s (Retry-After)" });
    expect(classifyAnswer(503, 2, schedule, T0, { retryAfterMs: 60_000 })).toMatchObject({ retryAt: T0 + 60_000 });
    expect(classifyAnswer(429, 2, schedule, T0, { retryAfterMs: 1_000 })).toEqual({ state: "pending", retryAt: T0 + 30_000 }); // shorter: the schedule
    expect(classifyAnswer(500, 1, schedule, T0, { retryAfterMs: 120_000 })).toEqual({ state: "pending", retryAt: T0 + 5_000 });
    expect(classifyAnswer(429, 3, schedule, T0, { retryAfterMs: 120_000 })).toEqual({ state: "failed", retryAt: null }); // the schedule is used up
  });
  test("at most an hour, and never past the message's not_after: cut to the last attempt, a second before it; at or past that, no retry", () => {
    expect(classifyAnswer(429, 1, schedule, T0, { retryAfterMs: 999_999_000 })).toEqual({
      state: "pending",
      retryAt: T0 + H,
      why: "the provider asked to wait 999999 s (Retry-After); waiting 1h, the longest honoured",
    });
    expect(classifyAnswer(429, 1, schedule, T0, { retryAfterMs: 999_999_000, expiresAt: T0 + 10 * 60_000 })).toEqual({
      state: "pending",
      retryAt: T0 + 10 * 60_000 - 1_000,
      why: "the provider asked to wait 999999 s (Retry-After); waiting 1h, the longest honoured; cut to 1 s before not_after, the last attempt",
    });
    expect(retryOrFail(2, schedule, T0, { expiresAt: T0 + 10_000 })).toEqual({ state: "pending", retryAt: T0 + 9_000, why: "retry_schedule says 30s; cut to 1 s before not_after, the last attempt" });
    // A wait that ends before the last attempt is not cut.
    expect(retryOrFail(1, schedule, T0, { expiresAt: T0 + 6_000 })).toEqual({ state: "pending", retryAt: T0 + 5_000 });
    expect(retryOrFail(1, schedule, T0, { expiresAt: T0 + 1_000 })).toEqual({ state: "failed", retryAt: null, why: "not retried: this was the last attempt before not_after" });
    expect(retryOrFail(1, schedule, T0, { expiresAt: T0 + 400 })).toEqual({ state: "failed", retryAt: null, why: "not retried: this was the last attempt before not_after" });
    expect(retryOrFail(1, schedule, T0, { expiresAt: T0 })).toEqual({ state: "failed", retryAt: null, why: "not retried: past not_after" });
  });
});

test("the outage guard trips above the ratio with at least 20 deadlines", () => {
  expect(guardTrips({ total: 20, stale: 12 }, 0.5)).toBe(true);
  expect(guardTrips({ total: 20, stale: 10 }, 0.5)).toBe(false);
  expect(guardTrips({ total: 19, stale: 19 }, 0.5)).toBe(false);
});
