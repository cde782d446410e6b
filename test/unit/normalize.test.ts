import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { normalizePayload } from "../../src/whatsapp/normalize";
import { nextStatus, statusLabel } from "../../src/whatsapp/status-order";

interface Fixture {
  description: string;
  payload: { entry: { id: string; changes: { field: string; value: unknown }[] }[] };
  events: { type: string; dedup_key: string | null; occurred_at: number | null; data: Record<string, unknown>; raw: unknown }[];
}

const dir = join(import.meta.dir, "../fixtures/payloads");
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .map((f) => [f.replace(/\.json$/, ""), require(join(dir, f)) as Fixture] as const);

test("a status's pricing keeps a key Meta adds beside the four every consumer reads", () => {
  const [status] = normalizePayload({
    object: "whatsapp_business_account",
    entry: [{ id: "102290129340398", changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata: { display_phone_number: "15550783881", phone_number_id: "106540352242922" }, statuses: [{ id: "wamid.PX", status: "delivered", timestamp: "1750000000", recipient_id: "16505551234", pricing: { billable: true, pricing_model: "PMP", pricing_type: "regular", category: "utility", new_pricing_key: "v" } }] } }] }],
  });
  expect(status!.data.pricing).toEqual({ billable: true, pricing_model: "PMP", category: "utility", type: "regular", new_pricing_key: "v" });
});

describe("fixture corpus: each shape → the exact normalized event", () => {
  for (const [name, fx] of fixtures) {
    test(`${name}: ${fx.description}`, () => {
      const events = normalizePayload(fx.payload);
      expect(events.map((e) => e.type as string)).toEqual(fx.events.map((e) => e.type));
      events.forEach((event, i) => {
        const want = fx.events[i]!;
        expect(event.data).toEqual(want.data);
        expect(event.raw).toEqual(want.raw);
        expect(event.occurredAt).toBe(want.occurred_at);
        if (want.dedup_key) expect(event.dedupKey).toBe(want.dedup_key);
        else expect(event.dedupKey).toMatch(/^hash:[0-9a-f]{64}$/);
        expect(event.wabaId).toBe("102290129340398");
      });
    });
  }
  test("the corpus covers every field the issue names", () => {
    const fields = new Set(fixtures.flatMap(([, fx]) => fx.payload.entry.flatMap((e) => e.changes.map((c) => c.field))));
    for (const f of ["messages", "message_template_status_update", "message_template_quality_update", "message_template_components_update", "template_category_update", "account_update", "account_review_update", "account_alerts", "phone_number_quality_update", "phone_number_name_update", "business_capability_update", "security", "flows", "user_preferences", "calls", "smb_message_echoes", "group_lifecycle_update", "group_participants_update", "group_settings_update", "group_status_update", "history", "smb_app_state_sync", "user_id_update", "business_username_update", "account_settings_update", "automatic_events", "partner_solutions", "payment_configuration_update"]) {
      expect(fields).toContain(f);
    }
  });
});

const fx = (name: string) => fixtures.find(([n]) => n === name)![1];

describe("batching and dedup keys", () => {
  test("every entry × change × item becomes its own event", () => {
    const text = fx("message_text").payload.entry[0]!;
    const status = fx("status_failed").payload.entry[0]!;
    const tpl = fx("template_status_paused").payload.entry[0]!;
    const second = structuredClone(text);
    const value = second.changes[0]!.value as { messages: { id: string }[] };
    value.messages.push({ ...value.messages[0]!, id: "wamid.TEXT2" }, { ...value.messages[0]!, id: "wamid.TEXT3" });
    const batched = { object: "whatsapp_business_account", entry: [{ ...text, changes: [...text.changes, ...status.changes] }, tpl, second] };
    expect(normalizePayload(batched).map((e) => `${e.type} ${e.dedupKey.startsWith("hash:") ? "hash" : e.dedupKey}`)).toEqual([
      "message.received msg:wamid.TEXT",
      "message.status status:wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2MjA4NEYyRkExNjMyREUA:failed",
      "template.status hash",
      "message.received msg:wamid.TEXT",
      "message.received msg:wamid.TEXT2",
      "message.received msg:wamid.TEXT3",
    ]);
  });

  test("a management event re-batched in another envelope keeps its dedup key", () => {
    const alone = normalizePayload(fx("account_alerts").payload)[0]!;
    const payload = fx("account_alerts").payload;
    const rebatched = { object: "whatsapp_business_account", entry: [fx("security").payload.entry[0]!, { ...payload.entry[0]!, changes: [...payload.entry[0]!.changes].reverse() }] };
    expect(normalizePayload(rebatched).map((e) => e.dedupKey)).toContain(alone.dedupKey);
  });

  test("not an envelope at all → one webhook.unknown, raw kept", () => {
    const events = normalizePayload({ hello: "world" });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "webhook.unknown", data: { field: "(envelope)" }, raw: { hello: "world" } });
  });
});

describe("status order: the final state does not depend on arrival order", () => {
  const permutations = <T,>(xs: T[]): T[][] => (xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p])));
  const finalState = (order: string[]) => order.reduce<string | null>((s, status) => nextStatus(s, status), null);

  const cases: [statuses: string[], expected: string][] = [
    [["sent", "delivered", "read", "failed"], "read"],
    [["sent", "delivered", "read"], "read"],
    [["sent", "delivered"], "delivered"],
    [["sent", "failed"], "failed"],
    [["failed", "delivered"], "delivered"],
    [["sent", "read"], "read"], // delivered implied by read
    [["sent", "delivered", "read", "played"], "played"],
  ];
  for (const [statuses, expected] of cases) {
    test(`every order of ${statuses.join(", ")} → ${expected}`, () => {
      for (const order of permutations(statuses)) expect(finalState(order)).toBe(expected);
    });
  }

  test("a late delivered after read does not regress; unknown statuses never move it", () => {
    expect(nextStatus("read", "delivered")).toBe("read");
    expect(nextStatus("delivered", "deleted")).toBe("delivered");
    expect(nextStatus(null, "deleted")).toBe("unknown");
    expect(nextStatus("unknown", "sent")).toBe("sent");
  });

  test("as a metric label a status is Meta's own or `other`: a signed payload cannot add series at will", () => {
    expect(["sent", "delivered", "read", "played", "failed", "unknown"].map(statusLabel)).toEqual(["sent", "delivered", "read", "played", "failed", "unknown"]);
    expect(["deleted", "x".repeat(300), 'evil"} 1\nfake_metric 999'].map(statusLabel)).toEqual(["other", "other", "other"]);
  });
});

describe("a person's number as Meta may write it: a JSON number, or with a +", () => {
  const change = (field: string, value: unknown) => ({ object: "whatsapp_business_account", entry: [{ id: "102290129340398", time: 1751600711, changes: [{ field, value }] }] });
  const META = { display_phone_number: "15550783881", phone_number_id: "106540352242922" };

  test("user_preferences with a numeric wa_id keeps every part, its own time and the opt-out", () => {
    const [e] = normalizePayload(change("user_preferences", { messaging_product: "whatsapp", metadata: META, user_preferences: [{ wa_id: 16505550021, category: "marketing_messages", value: "stop", timestamp: 1751600710 }] }));
    expect(e!.type).toBe("user.preferences");
    expect(e!.data).toMatchObject({ wa_id: "16505550021", category: "marketing_messages", value: "stop" });
    expect(e!.occurredAt).toBe(1751600710_000);
    expect(e!.effects).toEqual([expect.objectContaining({ kind: "notice", subject: "contact", id: "16505550021", attribute: "marketing_opt_out", value: "stop" })]);
  });

  test("an odd part of a preference reads as absent, never the rest with it", () => {
    const [e] = normalizePayload(change("user_preferences", { user_preferences: [{ wa_id: "16505550021", category: "marketing_messages", value: "resume", detail: { odd: true }, timestamp: 1751600710 }] }));
    expect(e!.data).toMatchObject({ wa_id: "16505550021", value: "resume", detail: null });
  });

  test("an inbound message's numeric from and contact wa_id, and a + in front, give one person", () => {
    const message = (from: unknown, waId: unknown) =>
      normalizePayload(change("messages", { messaging_product: "whatsapp", metadata: META, contacts: [{ profile: { name: "NumCont" }, wa_id: waId }], messages: [{ from, id: "wamid.NF1", timestamp: "1751600700", type: "text", text: { body: "hi" } }] }))[0]!;
    for (const [from, waId] of [[16505551234, 16505551234], ["+16505551234", "16505551234"], ["16505551234", "+16505551234"]]) {
      const e = message(from, waId);
      expect(e.data).toMatchObject({ from: "16505551234", profile_name: "NumCont" });
      expect(e.effects).toContainEqual({ kind: "contact", waId: "16505551234", seenAt: 1751600700_000 });
    }
  });

  test("a status's recipient_id with a + is the same recipient", () => {
    const [e] = normalizePayload(change("messages", { messaging_product: "whatsapp", metadata: META, statuses: [{ id: "wamid.S1", status: "delivered", timestamp: "1751600700", recipient_id: "+16505551234" }] }));
    expect(e!.data.recipient_id).toBe("16505551234");
  });
});

test("an unknown item nested past the cut: its reason says so, and two that differ only below the cut are two events", () => {
  const deep = (leaf: string) => {
    let v: unknown = leaf;
    for (let i = 0; i < 70; i++) v = [v];
    return { object: "whatsapp_business_account", entry: [{ id: "102290129340398", time: 1751600711, changes: [{ field: "some_future_field", value: { v } }] }] };
  };
  const [a] = normalizePayload(deep("A"));
  const [b] = normalizePayload(deep("B"));
  expect(a!.type).toBe("webhook.unknown");
  expect(a!.data).toEqual({ field: "some_future_field", reason: "nested deeper than 64 levels" });
  expect(a!.dedupKey).not.toBe(b!.dedupKey);
  expect(normalizePayload(deep("A"))[0]!.dedupKey).toBe(a!.dedupKey);
});

test("phone_number_quality_update: the limit from max_daily_conversations_per_business (since February 2026) or current_limit; only a rating sets the quality", () => {
  const update = (value: object) =>
    normalizePayload({ object: "whatsapp_business_account", entry: [{ id: "102290129340398", time: 1751247548, changes: [{ field: "phone_number_quality_update", value: { display_phone_number: "15550783881", ...value } }] }] })[0]!;
  const notices = (value: object) => update(value).effects.map((e) => (e.kind === "notice" ? `${e.attribute}=${e.value}` : e.kind));
  expect(notices({ event: "THROUGHPUT_UPGRADE", max_daily_conversations_per_business: "TIER_10K" })).toEqual(["messaging_limit=TIER_10K"]);
  expect(notices({ event: "ONBOARDING", max_daily_conversations_per_business: 2000 })).toEqual(["messaging_limit=TIER_2K"]);
  expect(notices({ event: "UPGRADE", current_limit: "TIER_10K", old_limit: "TIER_2K" })).toEqual(["messaging_limit=TIER_10K"]);
  expect(notices({ event: "FLAGGED", max_daily_conversations_per_business: "TIER_2K", current_limit: "TIER_1K" })).toEqual(["quality=FLAGGED", "messaging_limit=TIER_2K"]);
  expect(notices({ event: "UNFLAGGED" })).toEqual(["quality=UNFLAGGED"]);
});

test("Meta's own quality-update example, labelled message_template_status_update: a template.quality event that sets the quality; a real status update stays one", () => {
  const change = (value: object) =>
    normalizePayload({ object: "whatsapp_business_account", entry: [{ id: "102290129340398", time: 1751247548, changes: [{ field: "message_template_status_update", value }] }] })[0]!;
  const quality = change({ previous_quality_score: "GREEN", new_quality_score: "RED", message_template_id: 806312974732579, message_template_name: "welcome_template", message_template_language: "en-US" });
  expect(quality.type).toBe("template.quality");
  expect(quality.effects.filter((e) => e.kind === "notice").map((e) => `${(e as { attribute: string }).attribute}=${(e as { value: string }).value}`)).toEqual(["quality=RED"]);
  const status = change({ event: "APPROVED", message_template_id: 806312974732579, message_template_name: "welcome_template", message_template_language: "en-US", reason: null });
  expect(status.type).toBe("template.status");
});

test("account_alerts: an entity_id sent as a JSON number is text in data, as the other ids", () => {
  const value = { entity_type: "PHONE_NUMBER", entity_id: 106540352242922, alert_info: { alert_severity: "WARNING", alert_status: "ACTIVE", alert_type: "OBA_REJECTED", alert_description: "…" } };
  const [event] = normalizePayload({ object: "whatsapp_business_account", entry: [{ id: "102290129340398", time: 1751247548, changes: [{ field: "account_alerts", value }] }] });
  expect([event!.type, event!.data.entity_id, (event!.raw as typeof value).entity_id]).toEqual(["account.alert", "106540352242922", 106540352242922]);
  // An alert about a phone number is that number's event (hooks filtered by phone_number_ids); about the account, none's.
  expect(event!.phoneNumberId).toBe("106540352242922");
  const [onAccount] = normalizePayload({ object: "whatsapp_business_account", entry: [{ id: "102290129340398", time: 1751247548, changes: [{ field: "account_alerts", value: { ...value, entity_type: "WABA", entity_id: "102290129340398" } }] }] });
  expect(onAccount!.phoneNumberId).toBeNull();
});

describe("an odd part of a message's content reads as absent, never its siblings (real-traffic shapes)", () => {
  const META = { display_phone_number: "15550783881", phone_number_id: "106540352242922" };
  const received = (message: Record<string, unknown>) =>
    normalizePayload({
      object: "whatsapp_business_account",
      entry: [{ id: "102290129340398", changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata: META, messages: [{ from: "16505551234", id: "wamid.ODD", timestamp: "1751600700", ...message }] } }] }],
    })[0]!;

  test("media with a numeric id, a null caption or filename, a voice flag as text: the rest of the media stays", () => {
    expect(received({ type: "image", image: { id: 1003383421387256, mime_type: "image/jpeg", caption: "hello caption" } }).data.media).toMatchObject({ id: "1003383421387256", caption: "hello caption" });
    expect(received({ type: "image", image: { id: "M1", caption: null } }).data.media).toMatchObject({ id: "M1", caption: null });
    expect(received({ type: "document", document: { id: "D1", filename: null, caption: "Invoice" } }).data.media).toMatchObject({ id: "D1", filename: null, caption: "Invoice" });
    expect(received({ type: "audio", audio: { id: "A1", voice: "true" } }).data.media).toMatchObject({ id: "A1", voice: null });
  });

  test("context, interactive replies, button, reaction and location with one odd field keep the others", () => {
    expect(received({ type: "text", text: { body: "re" }, context: { from: 15550783881, id: "wamid.orig2" } }).data.context).toEqual({ from: "15550783881", id: "wamid.orig2", forwarded: false, frequently_forwarded: false });
    expect(received({ type: "text", text: { body: "fw" }, context: { forwarded: true, frequently_forwarded: null } }).data.context).toMatchObject({ forwarded: true, frequently_forwarded: false });
    expect(received({ type: "interactive", interactive: { type: "button_reply", button_reply: { id: 1, title: "Yes" } } }).data.interactive).toMatchObject({ kind: "button_reply", id: "1", title: "Yes" });
    expect(received({ type: "interactive", interactive: { type: "list_reply", list_reply: { id: "r1", title: "Row", description: null } } }).data.interactive).toMatchObject({ id: "r1", title: "Row", description: null });
    expect(received({ type: "interactive", interactive: { type: null, button_reply: { id: "b1", title: "Yes" } } }).data.interactive).toMatchObject({ kind: "button_reply", id: "b1", title: "Yes" });
    expect(received({ type: "button", button: { payload: 12345, text: "Ok" } }).data.button).toEqual({ payload: "12345", text: "Ok" });
    expect(received({ type: "reaction", reaction: { message_id: "wamid.orig", emoji: null } }).data.reaction).toEqual({ message_id: "wamid.orig", emoji: null });
    expect(received({ type: "location", location: { latitude: 1.5, longitude: 2.5, name: null } }).data.location).toMatchObject({ latitude: 1.5, longitude: 2.5, name: null });
  });

  test("an empty or non-numeric coordinate is absent, not 0; a numeric string is its number", () => {
    expect(received({ type: "location", location: { latitude: "", longitude: "" } }).data.location).toMatchObject({ latitude: null, longitude: null });
    expect(received({ type: "location", location: { latitude: "north", longitude: "37.5" } }).data.location).toMatchObject({ latitude: null, longitude: 37.5 });
  });

  test("a Flow's response_json keeps integers past 2^53 as their digits", () => {
    const response = '{"flow_token":"t","order_id":12345678901234567890,"card":4111111111111111111,"qty":2}';
    const e = received({ type: "interactive", interactive: { type: "nfm_reply", nfm_reply: { name: "flow", body: "Sent", response_json: response } } });
    expect((e.data.interactive as { response_json: unknown }).response_json).toEqual({ flow_token: "t", order_id: "12345678901234567890", card: "4111111111111111111", qty: 2 });
  });

  test("a failed status whose error has error_data null keeps its code", () => {
    const [e] = normalizePayload({
      object: "whatsapp_business_account",
      entry: [{ id: "102290129340398", changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata: META, statuses: [{ id: "wamid.F1", status: "failed", timestamp: "1751600700", recipient_id: "16505551234", errors: [{ code: 131026, title: "Message undeliverable", error_data: null }] }] } }] }],
    });
    expect(e!.data.errors).toEqual([{ code: 131026, title: "Message undeliverable", message: null, details: null }]);
  });

  test("a timestamp written with a fraction (\"1749416383.0\") is the time it says", () => {
    expect(received({ timestamp: "1749416383.0", type: "text", text: { body: "t" } }).occurredAt).toBe(1749416383_000);
  });
});

describe("items without an id of their own, on two numbers of one account", () => {
  const on = (phoneNumberId: string, field: string, value: Record<string, unknown>) =>
    normalizePayload({ object: "whatsapp_business_account", entry: [{ id: "102290129340398", changes: [{ field, value: { messaging_product: "whatsapp", metadata: { display_phone_number: "1555000", phone_number_id: phoneNumberId }, ...value } }] }] })[0]!;

  test("the same value-level error on two numbers is two occurrences; on one number, retried, one", () => {
    const errors = { errors: [{ code: 130429, title: "Rate limit hit", message: "Rate limit hit", error_data: { details: "…" } }] };
    const a = on("106540352242922", "messages", errors);
    const b = on("300000000000009", "messages", errors);
    expect(a.type).toBe("webhook.error");
    expect(b.dedupKey).not.toBe(a.dedupKey);
    expect(on("106540352242922", "messages", errors).dedupKey).toBe(a.dedupKey);
  });

  test("the same opt-out sent to two numbers in the same second is two events", () => {
    const stop = { user_preferences: [{ wa_id: "16505550021", category: "marketing_messages", value: "stop", timestamp: 1751600710 }] };
    expect(on("106540352242922", "user_preferences", stop).dedupKey).not.toBe(on("300000000000009", "user_preferences", stop).dedupKey);
  });

  test("an item with a time of its own keeps its key when re-batched under another entry.time (or none); one without keeps entry.time in it", () => {
    const post = (time: number | undefined, field: string, value: Record<string, unknown>) =>
      normalizePayload({ object: "whatsapp_business_account", entry: [{ id: "102290129340398", ...(time === undefined ? {} : { time }), changes: [{ field, value }] }] })[0]!;
    const ringing = { messaging_product: "whatsapp", metadata: { display_phone_number: "1555000", phone_number_id: "106540352242922" }, statuses: [{ id: "wacid.RB1", type: "call", status: "RINGING", timestamp: "1751600700", recipient_id: "16505551234" }] };
    const keys = [undefined, 1751600740, 1751600770].map((t) => post(t, "calls", ringing).dedupKey);
    expect(new Set(keys).size).toBe(1);
    const purchase = { automatic_events: [{ id: "wamid.AD1", event_name: "Purchase", timestamp: 1751600700, custom_data: { currency: "USD", value: 1000 } }] };
    expect(post(1751600740, "automatic_events", purchase).dedupKey).toBe(post(1751600799, "automatic_events", purchase).dedupKey);
    const paused = { event: "PAUSED", message_template_id: 1, message_template_name: "t", message_template_language: "en_US", reason: null };
    expect(post(1751600740, "message_template_status_update", paused).dedupKey).not.toBe(post(1751600799, "message_template_status_update", paused).dedupKey);
  });

  test("a state sync item (its time in metadata) and a named history chunk keep their keys under another entry.time; a history error does not", () => {
    const post = (time: number, field: string, value: Record<string, unknown>) =>
      normalizePayload({ object: "whatsapp_business_account", entry: [{ id: "102290129340398", time, changes: [{ field, value }] }] })[0]!;
    const metadata = { display_phone_number: "15550783881", phone_number_id: "106540352242922" };
    const sync = { messaging_product: "whatsapp", metadata, state_sync: [{ type: "contact", action: "add", contact: { full_name: "A B", first_name: "A", phone_number: "16505551234" }, metadata: { timestamp: "1760300000" } }] };
    expect(post(1760300010, "smb_app_state_sync", sync)).toMatchObject({ type: "contact.sync" });
    expect(post(1760300010, "smb_app_state_sync", sync).dedupKey).toBe(post(1760300999, "smb_app_state_sync", sync).dedupKey);
    const chunk = { messaging_product: "whatsapp", metadata, history: [{ metadata: { phase: 0, chunk_order: 1, progress: 10 }, threads: [{ id: "16505551234", messages: [{ from: "16505551234", id: "wamid.H1", timestamp: "1760000000", type: "text", text: { body: "hi" }, history_context: { status: "READ" } }] }] }] };
    expect(post(1760300010, "history", chunk)).toMatchObject({ type: "history.sync" });
    expect(post(1760300010, "history", chunk).dedupKey).toBe(post(1760300999, "history", chunk).dedupKey);
    const off = { messaging_product: "whatsapp", metadata, history: [{ errors: [{ code: 2593109, title: "History sync is turned off by the business" }] }] };
    expect(post(1760300010, "history", off).dedupKey).not.toBe(post(1760300999, "history", off).dedupKey);
  });

  test("a notice without a number keeps the key earlier builds gave it", () => {
    const [e] = normalizePayload({ object: "whatsapp_business_account", entry: [{ id: "102290129340398", time: 1751600711, changes: [{ field: "security", value: { display_phone_number: "15550783881", event: "PIN_CHANGED", requester: "1" } }] }] });
    const { sha256Hex, stableStringify } = require("../../src/util/stable-json");
    expect(e!.dedupKey).toBe(`hash:${sha256Hex(`security\n102290129340398\n1751600711000\n${stableStringify(e!.raw)}`)}`);
  });
});
