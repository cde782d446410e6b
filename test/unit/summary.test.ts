/**
 * `wa-webhookd tail`'s line per event (issue 18, item 8): every type says something
 * useful, and no line holds a person's number, name, text or place. Run on the whole
 * fixture corpus (each shape Meta sends, normalized as the worker does) and on the
 * events the sweeper raises.
 */
import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { line } from "../../src/cli/tail";
import { keyedRedactor, noRedaction } from "../../src/util/redact";
import type { EventEnvelope } from "../../src/events/envelope";
import { eventSummary, summaryId } from "../../src/events/summary";
import { EVENT_TYPES, type EventType } from "../../src/events/types";
import { normalizePayload } from "../../src/whatsapp/normalize";

const dir = join(import.meta.dir, "../fixtures/payloads");
const corpus = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .flatMap((f) => normalizePayload(require(join(dir, f)).payload).map((e) => ({ fixture: f.replace(/\.json$/, ""), type: e.type as EventType, data: e.data as Record<string, unknown> })));
const raised: { fixture: string; type: EventType; data: Record<string, unknown> }[] = [
  { fixture: "stale", type: "message.stale", data: { wamid: "wamid.S", to: "16505551234", category: "authentication", deadline: "2026-11-23T12:00:10.000Z", sent_at: "2026-11-23T12:00:00.000Z" } },
  { fixture: "fallback", type: "message.fallback", data: { wamid: "wamid.S", to: "16505551234", reason: "failed", error_code: 131026, category: "utility", outcome: "sent", state: "fallback_sent", provider_status: 200, attempts: 1 } },
  { fixture: "held", type: "fallback.held", data: { since: "2026-11-23T12:00:00.000Z", deadlines: 40, undelivered: 38, max_stale_ratio: 0.5 } },
];
const events = [...corpus, ...raised];

/** What the corpus says about people: numbers, user ids, names, texts, captions, file names, places. */
const PERSONAL = ["16505551234", "12195550000", "15555555555", "919876543210", "US.", "Sheena", "Jane", "Al ", "Bea", "Anon", "Does it come", "color", "the blue one", "March", "invoice", "Facebook HQ", "Hacker Way", "37.46", "Navy", "Blue", "Yes", "Stop promotions", "User A", "Hi from the ad", "fwd", "hello", "sent from the app", "red?", "requested to"];

test("every event type has a summary, and the corpus and the sweeper's events cover them all", () => {
  expect(new Set(events.map((e) => e.type))).toEqual(new Set(EVENT_TYPES));
  for (const e of events) expect({ fixture: e.fixture, summary: eventSummary(e) }).toEqual({ fixture: e.fixture, summary: expect.stringMatching(/\S/) });
});

test("no summary holds a person's number, id, name, text, caption, file name or place", () => {
  for (const e of events) {
    const summary = eventSummary(e);
    for (const word of PERSONAL) expect({ fixture: e.fixture, summary, has: summary.includes(word) ? word : null }).toEqual({ fixture: e.fixture, summary, has: null });
    expect({ fixture: e.fixture, digits: /\d{7,}/.test(summary) }).toEqual({ fixture: e.fixture, digits: false });
  }
});

test("each summary says what happened: a message's kind and facts, a template's name and new state, a quality's old and new", () => {
  const of = (fixture: string, i = 0) => eventSummary(corpus.filter((e) => e.fixture === fixture)[i]!);
  expect(of("message_text")).toBe("text (32 chars)");
  expect(of("message_image")).toBe("image (image/jpeg, with caption)");
  expect(of("message_audio_voice")).toBe("audio (audio/ogg; codecs=opus, voice)");
  expect(of("message_reaction")).toBe("reaction to wamid.HBgLMTY1MDM4");
  expect(of("message_reaction_removed")).toBe("reaction removed from wamid.HBgLMTY1MDM4");
  expect(of("message_location")).toBe("location");
  expect(of("message_button")).toBe("button STOP_PROMOS (reply to wamid.TPL)");
  expect(of("message_interactive_list_reply")).toBe("interactive list_reply row-2");
  expect(of("message_contacts")).toBe("contacts (1 card)");
  expect(of("message_order")).toBe("order (1 item)");
  expect(of("message_edit")).toBe("edit of wamid.TEXT");
  expect(of("message_forwarded")).toBe("text (3 chars) (forwarded)");
  expect(of("message_interactive_button_reply")).toBe("interactive button_reply yes-1 (reply to wamid.Q)");
  expect(of("message_unsupported")).toBe("unsupported poll (error 131051)");
  expect(of("status_failed")).toBe("failed (error 131049)");
  expect(of("status_sent")).toBe("sent (marketing)");
  expect(of("smb_message_echo")).toBe("echo text");
  expect(of("template_status_paused")).toBe("order_confirmation → PAUSED");
  expect(of("template_quality")).toBe("order_confirmation quality GREEN → RED");
  expect(of("template_category")).toBe("otp category UTILITY → MARKETING");
  expect(of("template_components")).toBe("promo components changed");
  expect(of("phone_number_quality")).toBe("DOWNGRADE limit TIER_2K → TIER_250");
  expect(of("phone_number_name")).toBe("name REJECTED");
  expect(of("account_alerts")).toBe("CRITICAL OBA_REJECTED (ACTIVE)");
  expect(of("account_update")).toBe("ACCOUNT_RESTRICTION RESTRICTED_BIZ_INITIATED_MESSAGING");
  expect(of("user_preferences_stop")).toBe("marketing_messages stop");
  expect(of("flows")).toBe("FLOW_STATUS_CHANGE DRAFT → PUBLISHED");
  expect(of("calls_connect")).toBe("call connect USER_INITIATED");
  expect(of("value_errors_only")).toBe("error 130429 (Rate limit hit)");
  expect(of("unknown_field")).toBe("field some_future_field");
  expect(eventSummary({ type: "template.status", data: { event: "APPROVED", message_template_name: "otp", state_changed: false } })).toBe("otp → APPROVED (older than the current state: no change)");
  expect(eventSummary(raised[1]!)).toBe("sms sent (failed 131026)");
  expect(eventSummary(raised[2]!)).toBe("held: 38 of 40 deadlines undelivered since 2026-11-23T12:00:00.000Z");
});

test("the line's id is what the event is about: the wamid, the template, the call; else the event id", () => {
  const envelope = (fixture: string): EventEnvelope => {
    const e = corpus.find((c) => c.fixture === fixture)!;
    return { id: "evt_01M85FEQF26QZPSSFXV61RRAKX", type: e.type, timestamp: "", received_at: "2026-11-23T12:00:00.000Z", waba_id: null, phone_number_id: null, display_phone_number: null, data: e.data, raw: null };
  };
  expect(summaryId(envelope("message_text"))).toBe("wamid.TEXT");
  expect(summaryId(envelope("smb_message_echo"))).toBe("wamid.ECHO");
  expect(summaryId(envelope("template_quality"))).toBe("1689556908129832");
  expect(summaryId(envelope("calls_connect"))).toBe("wacid.1");
  expect(summaryId(envelope("flows"))).toBe("flow-1");
  expect(summaryId(envelope("phone_number_quality"))).toBe("evt_01M85FEQF26QZPSSFXV61RRAKX");
  expect(line(envelope("template_status_paused"), noRedaction)).toBe("2026-11-23T12:00:00.000Z  template.status       1689556908129832  order_confirmation → PAUSED");
});

test("what Meta relays reaches the terminal escaped, never obeyed, and its phone-like numbers hashed; the business's own number stays", () => {
  const [paused] = normalizePayload({
    object: "whatsapp_business_account",
    entry: [{ id: "1", time: 1751247548, changes: [{ field: "message_template_status_update", value: { event: "PAUSED", message_template_id: 1689556908129832, message_template_name: "n\u001b[31mRED\r\nFAKE 16505551234 \u202e", message_template_language: "en_US" } }] }],
  });
  const envelope: EventEnvelope = { id: "evt_1", type: paused!.type, timestamp: "", received_at: "2026-11-23T12:00:00.000Z", waba_id: "1", phone_number_id: null, display_phone_number: "15550783881", data: paused!.data, raw: null };
  const shown = line(envelope, keyedRedactor("k"));
  expect(shown).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
  expect(shown).toContain("n\\u001b[31mRED\\u000d\\u000aFAKE wa_");
  expect(shown).not.toContain("16505551234");
  const ours = line({ ...envelope, data: { ...envelope.data, message_template_name: "call 15550783881" } }, keyedRedactor("k"));
  expect(ours).toContain("call 15550783881");
  // A wamid in the summary stays as the id column shows wamids (to look it up), hashed neither as itself nor as digits.
  const reaction: EventEnvelope = { ...envelope, type: "message.received", data: { wamid: "wamid.R1", kind: "reaction", reaction: { message_id: "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI2QjU1", emoji: "👍" } } };
  expect(line(reaction, keyedRedactor("k"))).toEndWith("reaction to wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI2QjU1");
});
