/**
 * One bad item never sinks its siblings: every odd or hostile part of a valid JSON
 * POST becomes a webhook.unknown with a reason, and the rest become their normal events.
 */
import { describe, expect, test } from "bun:test";
import { deeperThan, cutDeep, DEPTH_CUT_MARKER } from "../../src/util/json-depth";
import { storableKey } from "../../src/util/storable-key";
import { normalizePayload, type NormalizedEvent } from "../../src/whatsapp/normalize";
import { fixture, pipeline } from "../support/pipeline";

const metadata = { display_phone_number: "15550783881", phone_number_id: "106540352242922" };
const text = (id: string, extra: object = {}) => ({ from: "16505551234", id, timestamp: "1749416383", type: "text", text: { body: "hi" }, ...extra });
const messages = (value: object) => ({ field: "messages", value: { messaging_product: "whatsapp", metadata, ...value } });
const post = (...changes: unknown[]) => ({ object: "whatsapp_business_account", entry: [{ id: "102290129340398", changes }] });
const nest = (depth: number, leaf: unknown = 1): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
};
const summary = (events: NormalizedEvent[]) => events.map((e) => (e.type === "webhook.unknown" ? `unknown: ${e.data.reason ?? e.data.field}` : `${e.type} ${e.data.wamid ?? ""}`.trim()));

describe("per-item isolation in the normalizer", () => {
  test("change fields named like Object's own properties are unknown, not crashes", () => {
    for (const field of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      const body = JSON.parse(JSON.stringify(post({ field, value: { x: 1 } }, messages({ messages: [text("wamid.OK")] }))).replace('"field"', '"field"'));
      const events = normalizePayload(body);
      expect(events.map((e) => e.type)).toEqual(["webhook.unknown", "message.received"]);
      expect(events[0]!.data.field).toBe(field);
    }
    // JSON.parse makes "__proto__" an own key; it must stay data, never a prototype.
    const events = normalizePayload(JSON.parse('{"entry":[{"id":"1","changes":[{"field":"__proto__","value":{"__proto__":{"polluted":true}}}]}]}'));
    expect(events[0]!.type).toBe("webhook.unknown");
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  test("impossible timestamps read as unknown times, never as Invalid Date", () => {
    const events = normalizePayload(
      post(messages({ messages: [text("wamid.T1", { timestamp: "9999999999999" }), text("wamid.T2", { timestamp: "9".repeat(400) }), text("wamid.T3", { timestamp: { odd: true } }), text("wamid.T4")] })),
    );
    expect(summary(events)).toEqual(["message.received wamid.T1", "message.received wamid.T2", "message.received wamid.T3", "message.received wamid.T4"]);
    expect(events.map((e) => e.occurredAt)).toEqual([null, null, null, 1749416383000]);
    const far = normalizePayload({ entry: [{ id: "1", time: 1e15, changes: [{ field: "account_update", value: { event: "X" } }] }] });
    expect(far[0]!.occurredAt).toBeNull();
    const asText = normalizePayload({ entry: [{ id: "1", time: "1749416383", changes: [{ field: "account_update", value: { event: "X" } }] }] });
    expect(asText[0]!.occurredAt).toBe(1749416383000);
  });

  test("a message or status whose own time is missing or impossible takes the entry's time, as every other item does", () => {
    const entry = (value: object) => ({ object: "whatsapp_business_account", entry: [{ id: "1", time: 1749416000, changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata, ...value } }] }] });
    const { timestamp: _, ...untimed } = text("wamid.U1");
    const events = normalizePayload(entry({ messages: [untimed, text("wamid.U2", { timestamp: "99999999999" })], statuses: [{ id: "wamid.U3", status: "sent", timestamp: "100", recipient_id: "16505551234" }] }));
    expect(events.map((e) => [e.type, e.occurredAt])).toEqual([
      ["message.received", 1749416000000],
      ["message.received", 1749416000000],
      ["message.status", 1749416000000],
    ]);
  });

  test("a null among messages or statuses is an item that is not an object, beside its siblings", () => {
    const events = normalizePayload(post(messages({ messages: [null, text("wamid.N1")], statuses: [7] })));
    expect(events.map((e) => [e.type, e.data.reason ?? null])).toEqual([
      ["webhook.unknown", "item is not an object"],
      ["message.received", null],
      ["webhook.unknown", "item is not an object"],
    ]);
  });

  test("null items in calls and smb_message_echoes become unknown beside their siblings", () => {
    const calls = { field: "calls", value: { messaging_product: "whatsapp", metadata, calls: [null, { id: "wacid.1", event: "connect", timestamp: "1749416383" }] } };
    const echoes = { field: "smb_message_echoes", value: { messaging_product: "whatsapp", metadata, message_echoes: [{ id: "wamid.E1", type: "text" }, null, 7] } };
    expect(summary(normalizePayload(post(calls, echoes)))).toEqual([
      "unknown: item is not an object",
      "call.event",
      "message.echo",
      "unknown: item is not an object",
      "unknown: item is not an object",
    ]);
  });

  test("malformed siblings (contacts, errors, ids, changes) never collapse the change", () => {
    const events = normalizePayload(
      post(
        null,
        messages({ contacts: [null, { wa_id: "16505551234", profile: { name: "Sheena" } }], errors: [null], messages: [text("wamid.C1")] }),
        { field: "messages", value: { metadata: { phone_number_id: 106540352242922 }, statuses: [{ id: "wamid.S1", status: "sent", recipient_id: 16505551234, timestamp: 1749416383, errors: [null] }] } },
      ),
    );
    expect(summary(events)).toEqual(["unknown: change without a field name", "message.received wamid.C1", "message.status wamid.S1"]);
    expect(events[1]!.data.profile_name).toBe("Sheena");
    expect(events[2]!.phoneNumberId).toBe("106540352242922");
    expect(events[2]!.data.recipient_id).toBe("16505551234");
  });

  test("an entry without changes is kept as one unknown event, not zero", () => {
    const events = normalizePayload({ object: "whatsapp_business_account", entry: [{ id: "1", time: 1749416383, messaging: [{ message: { text: "hi" } }] }] });
    expect(summary(events)).toEqual(["unknown: entry without changes"]);
    expect(events[0]!.raw).toEqual({ id: "1", time: 1749416383, messaging: [{ message: { text: "hi" } }] });
  });

  test("another product's webhook (object other than whatsapp_business_account) is kept whole as one unknown, even with a `messages` change", () => {
    for (const object of ["page", "instagram", 42]) {
      const body = { object, entry: [{ id: "1", time: 1749416383, changes: [messages({ messages: [text("wamid.IG")] }).value].map((value) => ({ field: "messages", value })) }] };
      const events = normalizePayload(body);
      expect(summary(events)).toEqual([`unknown: object is ${JSON.stringify(object)}, not whatsapp_business_account`]);
      expect(events[0]!.raw).toEqual(body);
    }
    // Without an object at all, the envelope is still read (Meta always sends it; a hand-made test may not).
    expect(summary(normalizePayload({ entry: [{ id: "1", changes: [messages({ messages: [text("wamid.NOOBJ")] })] }] }))).toEqual(["message.received wamid.NOOBJ"]);
  });

  test("a change of a known field that holds no item it can read is one unknown with its value, never zero events", () => {
    const echoesElsewhere = { messaging_product: "whatsapp", metadata, messages: [{ from: "15550783881", to: "16505551234", id: "wamid.E", timestamp: "1749416383", type: "text", text: { body: "hi" } }] };
    const events = normalizePayload(post({ field: "smb_message_echoes", value: echoesElsewhere }, { field: "history", value: { messaging_product: "whatsapp", metadata, messages: [] } }, messages({ messages: [text("wamid.AFTER")] })));
    expect(summary(events)).toEqual(["unknown: no item to read in this change's value", "unknown: no item to read in this change's value", "message.received wamid.AFTER"]);
    expect(events[0]!.raw).toEqual(echoesElsewhere);
    expect(events[0]!.data.field).toBe("smb_message_echoes");
  });

  test("a whole-value field whose value is not an object is unknown, not the event its field names", () => {
    const template = { event: "APPROVED", message_template_id: 1, message_template_name: "t", message_template_language: "en_US" };
    const events = normalizePayload(post({ field: "message_template_status_update", value: [template] }, { field: "security", value: null }, { field: "message_template_status_update", value: template }));
    expect(summary(events)).toEqual(["unknown: value is not an object", "unknown: value is not an object", "template.status"]);
    expect(events[0]!.raw).toEqual([template]);
  });

  test("a part of a messages value we do not read (a list Meta added beside messages[]) is kept as a webhook.unknown beside the items' events", () => {
    const future = [{ id: "x1", kind: "new" }];
    const events = normalizePayload(post(messages({ messages: [text("wamid.NEWS")], future_list: future, future_flag: true })));
    expect(summary(events)).toEqual(["message.received wamid.NEWS", "unknown: messages value parts not read: future_list, future_flag"]);
    expect(events[1]!.raw).toEqual({ future_list: future, future_flag: true });
    // Known parts only: nothing more than the items' events.
    expect(summary(normalizePayload(post(messages({ messages: [text("wamid.PLAIN")], contacts: [{ wa_id: "16505551234" }] }))))).toEqual(["message.received wamid.PLAIN"]);
  });

  test("a part we do not read beside the items of every other list field is kept too; Meta's documented parts are not news", () => {
    const marker = [{ marker: "ZZMARK" }];
    const changes: [string, object][] = [
      ["calls", { contacts: [{ wa_id: "16505551234" }], calls: [{ id: "wacid.1", from: "16505551234", to: "15550783881", event: "connect", timestamp: "1749416383" }] }],
      ["history", { history: [{ metadata: { phase: 0, chunk_order: 1, progress: 10 }, threads: [] }] }],
      ["user_preferences", { contacts: [{ wa_id: "16505551234" }], user_preferences: [{ wa_id: "16505551234", category: "marketing_messages", value: "stop", timestamp: 1731705721 }] }],
      ["group_status_update", { groups: [{ timestamp: "1749416383", type: "group_suspend", group_id: "g1" }] }],
      ["smb_message_echoes", { message_echoes: [{ from: "15550783881", to: "16505551234", id: "wamid.ECHO", timestamp: "1749416383", type: "text", text: { body: "hi" } }] }],
      ["automatic_events", { automatic_events: [{ id: "wamid.AD", event_name: "Purchase", timestamp: 1749416383 }] }],
      ["user_id_update", { contacts: [{ wa_id: "16505551234" }], user_id_update: [{ wa_id: "16505551234", user_id: { previous: "US.1", current: "US.2" }, timestamp: "1749416383" }] }],
      ["smb_app_state_sync", { state_sync: [{ type: "contact", action: "add", contact: { full_name: "A", phone_number: "16505551234" }, metadata: { timestamp: "1749416383" } }] }],
    ];
    for (const [field, value] of changes) {
      const known = normalizePayload(post({ field, value: { messaging_product: "whatsapp", metadata, ...value } }));
      expect({ field, unknown: known.filter((e) => e.type === "webhook.unknown").length }).toEqual({ field, unknown: 0 });
      const events = normalizePayload(post({ field, value: { messaging_product: "whatsapp", metadata, ...value, zz_new_list: marker } }));
      expect({ field, types: events.map((e) => e.type) }).toEqual({ field, types: [...known.map((e) => e.type), "webhook.unknown"] });
      expect(events.at(-1)!.data.reason).toBe(`${field} value parts not read: zz_new_list`);
      expect(events.at(-1)!.raw).toEqual({ zz_new_list: marker });
    }
  });

  test("value-level errors no item takes are a webhook.error of their own: beside a status that did not fail, or items with errors of their own", () => {
    const rateLimit = { code: 130429, title: "Rate limit hit", message: "Rate limit hit" };
    const coexistence = { code: 131060, title: "Coexistence" };
    const status = (id: string, extra: object = {}) => ({ id, status: "delivered", timestamp: "1749416383", recipient_id: "16505551234", ...extra });
    const errorsOf = (events: NormalizedEvent[]) => events.map((e) => [e.type, (e.data.errors as { code: number }[] | null)?.map((x) => x.code) ?? null]);

    expect(errorsOf(normalizePayload(post(messages({ statuses: [status("wamid.VE1")], errors: [rateLimit] }))))).toEqual([["message.status", null], ["webhook.error", [130429]]]);
    const unsupported = text("wamid.U1", { type: "unsupported", errors: [{ code: 131051, title: "Unsupported" }] });
    expect(errorsOf(normalizePayload(post(messages({ messages: [unsupported], errors: [coexistence] }))))).toEqual([["message.received", [131051]], ["webhook.error", [131060]]]);
    const failedOwn = status("wamid.F1", { status: "failed", errors: [{ code: 131026, title: "Undeliverable" }] });
    expect(errorsOf(normalizePayload(post(messages({ statuses: [failedOwn], errors: [coexistence] }))))).toEqual([["message.status", [131026]], ["webhook.error", [131060]]]);
    // Taken by an item: no more than that item's event (as before).
    expect(errorsOf(normalizePayload(post(messages({ statuses: [status("wamid.F2", { status: "failed" })], errors: [rateLimit] }))))).toEqual([["message.status", [130429]]]);
    expect(errorsOf(normalizePayload(post(messages({ messages: [text("wamid.M1")], errors: [rateLimit] }))))).toEqual([["message.received", [130429]]]);
    // Keyed with the items beside them: the same error beside other statuses is another occurrence; a retry is the same.
    const keyOf = (id: string) => normalizePayload(post(messages({ statuses: [status(id)], errors: [rateLimit] }))).at(-1)!.dedupKey;
    expect(keyOf("wamid.VE1")).toBe(keyOf("wamid.VE1"));
    expect(keyOf("wamid.VE1")).not.toBe(keyOf("wamid.VE2"));

    const call = (own: object[] | undefined) => ({ id: "wacid.T", from: "16505551234", to: "15550783881", event: "terminate", timestamp: "1749416383", status: "FAILED", ...(own ? { errors: own } : {}) });
    const calls = (own: object[] | undefined) => normalizePayload(post({ field: "calls", value: { messaging_product: "whatsapp", metadata, calls: [call(own)], errors: [coexistence] } }));
    expect(errorsOf(calls([{ code: 138006, title: "Call failed" }]))).toEqual([["call.event", [138006]], ["webhook.error", [131060]]]);
    expect(errorsOf(calls(undefined))).toEqual([["call.event", [131060]]]);
  });

  test("an envelope with no entries is one unknown event too, raw kept", () => {
    const events = normalizePayload({ object: "whatsapp_business_account", entry: [] });
    expect(summary(events)).toEqual(["unknown: envelope without entries"]);
    expect(events[0]!.raw).toEqual({ object: "whatsapp_business_account", entry: [] });
  });

  test("deep nesting: a 50k-deep response_json is kept as its string; a 10k-deep item is cut and unknown; siblings intact", () => {
    const deepJson = "[".repeat(50_000) + "]".repeat(50_000);
    const nfm = text("wamid.NFM", { type: "interactive", interactive: { type: "nfm_reply", nfm_reply: { name: "flow", body: "Sent", response_json: deepJson } } });
    const deep = text("wamid.DEEP", { text: nest(10_000, "x") });
    const events = normalizePayload(post(messages({ messages: [nfm, deep, text("wamid.FINE")] })));
    expect(summary(events)).toEqual(["message.received wamid.NFM", "unknown: nested deeper than 64 levels", "message.received wamid.FINE"]);
    expect((events[0]!.data.interactive as { response_json: unknown }).response_json).toBe(deepJson);
    expect(JSON.stringify(events[1]!.raw)).toContain(DEPTH_CUT_MARKER);
    expect(() => JSON.stringify(events)).not.toThrow();
  });
});

describe("depth helpers and storable keys", () => {
  test("deeperThan and cutDeep work iteratively at any depth", () => {
    expect(deeperThan(nest(64))).toBe(false);
    expect(deeperThan(nest(65))).toBe(true);
    expect(deeperThan(nest(1_000_000))).toBe(true);
    const cut = cutDeep(nest(100_000), 3);
    expect(cut).toEqual({ a: { a: { a: DEPTH_CUT_MARKER } } });
    expect(cutDeep(JSON.parse('{"__proto__":{"x":1}}'))).toEqual(JSON.parse('{"__proto__":{"x":1}}'));
  });

  test("keys with lone surrogates stay distinct once stored as UTF-8; ordinary keys are unchanged", () => {
    const keys = ["msg:wamid.\ud800", "msg:wamid.\udfff", "msg:wamid.\ufffd", "msg:wamid.\\ud800", "~esc:msg", "msg:wamid.😀"];
    const stored = keys.map(storableKey);
    expect(new Set(stored.map((k) => Buffer.from(k, "utf8").toString("hex"))).size).toBe(keys.length);
    expect(storableKey("msg:wamid.ABC")).toBe("msg:wamid.ABC");
    expect(storableKey("msg:wamid.😀")).toBe("msg:wamid.😀");
  });
});

describe("the processor with hostile but valid JSON (real SQLite)", () => {
  test("one POST mixing hostile items and good ones: job done, every good item an event, reasons recorded", async () => {
    const p = pipeline();
    const good = fixture("message_text").payload as { entry: { changes: unknown[] }[] };
    const hostile = post(
      { field: "constructor", value: {} },
      messages({ messages: [text("wamid.H1", { timestamp: "9999999999999" }), text("wamid.H2", { text: nest(10_000, "x") })] }),
      { field: "calls", value: { calls: [null] } },
    );
    hostile.entry.push(...(good.entry as never[]));
    const id = p.post(hostile);
    expect(await p.processor.runOnce()).toMatchObject({ jobs: 1, dead: 0, events: 5 });
    expect(p.db.query("SELECT state FROM inbox WHERE id = ?").get(id)).toEqual({ state: "done" });
    const types = p.db.query("SELECT type FROM events ORDER BY rowid").all().map((r) => (r as { type: string }).type);
    expect(types).toEqual(["webhook.unknown", "message.received", "webhook.unknown", "webhook.unknown", "message.received"]);
  });

  test("two wamids differing only in a lone surrogate are two events", async () => {
    const p = pipeline();
    p.post(JSON.stringify(post(messages({ messages: [text("wamid.X")] }))).replace("wamid.X", "wamid.X\\ud800"));
    p.post(JSON.stringify(post(messages({ messages: [text("wamid.X")] }))).replace("wamid.X", "wamid.X\\udbff"));
    expect(await p.processor.runOnce()).toMatchObject({ events: 2, duplicates: 0 });
  });

  test("only a body that is really not JSON is dead, with an accurate error", async () => {
    const p = pipeline();
    const bad = p.post('{"entry": [');
    const notUtf8 = p.post(new Uint8Array([0x7b, 0xff, 0x7d]));
    await p.processor.runOnce();
    const rows = p.db.query("SELECT id, state, last_error FROM inbox ORDER BY id").all() as { id: number; state: string; last_error: string }[];
    expect(rows.find((r) => r.id === bad)).toMatchObject({ state: "dead" });
    expect(rows.find((r) => r.id === bad)!.last_error).toStartWith("body is not valid JSON");
    expect(rows.find((r) => r.id === notUtf8)).toMatchObject({ state: "dead", last_error: "body is not valid UTF-8" });
  });
});
