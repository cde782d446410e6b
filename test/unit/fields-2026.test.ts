/**
 * Issue 22's fields through the real processor on a real SQLite file: one event per
 * occurrence (a retry is a duplicate, a different item in the same second is not),
 * group suspension and business username by Meta's clock, history kept apart from
 * live traffic, and nothing dropped when a part is malformed.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { normalizePayload } from "../../src/whatsapp/normalize";
import { fixture, pipeline } from "../support/pipeline";

const WABA = "102290129340398";
const NEW_FIXTURES = [
  "group_lifecycle", "group_participants", "group_settings", "group_status", "history", "history_off", "smb_app_state_sync", "user_id_update",
  "message_system_user_id", "business_username", "business_username_deleted", "account_settings", "automatic_events", "partner_solutions",
  "payment_configuration", "message_user_actions",
];

const change = (field: string, value: unknown, time?: number) => ({ object: "whatsapp_business_account", entry: [{ id: WABA, ...(time === undefined ? {} : { time }), changes: [{ field, value }] }] });
const groups = (field: string, items: unknown[]) => change(field, { messaging_product: "whatsapp", metadata: { display_phone_number: "15550783881", phone_number_id: "106540352242922" }, groups: items });
const drain = async (p: ReturnType<typeof pipeline>) => {
  while ((await p.processor.runOnce()).jobs > 0);
};
const types = (p: ReturnType<typeof pipeline>) => (p.db.query("SELECT type FROM events ORDER BY rowid").all() as { type: string }[]).map((r) => r.type);

describe("group statuses", () => {
  test("the participant under either of the names Meta's groups page uses, and by parent user id, is in the event's data and its subject", () => {
    const status = (extra: object) => change("messages", { messaging_product: "whatsapp", metadata: { display_phone_number: "15550783881", phone_number_id: "106540352242922" }, statuses: [{ id: "wamid.G", status: "read", timestamp: "1767225600", recipient_id: "120363999999999999@g.us", recipient_type: "group", ...extra }] });
    const [other] = normalizePayload(status({ participant_recipient_id: "16505550012" }));
    expect(other!.data).toMatchObject({ recipient_type: "group", recipient_participant_id: "16505550012" });
    expect(other!.dedupKey).toBe("status:wamid.G:read:to:16505550012");
    const [parent] = normalizePayload(status({ recipient_participant_parent_user_id: "US.ENT.2" }));
    expect(parent!.data).toMatchObject({ recipient_participant_parent_user_id: "US.ENT.2" });
    expect(parent!.dedupKey).toBe("status:wamid.G:read:to:US.ENT.2");
  });
});

describe("value-level contacts", () => {
  const value = (extra: object) => change("messages", { messaging_product: "whatsapp", metadata: { display_phone_number: "15550783881", phone_number_id: "106540352242922" }, ...extra });
  const contact = { profile: { name: "Kai", username: "kai", country_code: "US" }, wa_id: "16505551234", user_id: "US.13491208655302741918", parent_user_id: "US.ENT.11815799212886844830", identity_key_hash: "DF2lS5v2W6x=" };

  test("a status's recipient entry (Meta adds them to sent, delivered and read) reaches data.contact whole, by number or by user id; someone else's never", () => {
    const status = (recipient: object) => ({ id: "wamid.S", status: "delivered", timestamp: "1767225600", ...recipient });
    const [byNumber, byUser, other] = normalizePayload(value({ contacts: [contact], statuses: [status({ recipient_id: "16505551234" }), status({ recipient_user_id: "US.13491208655302741918", id: "wamid.S2" }), status({ recipient_id: "447700900123", id: "wamid.S3" })] }));
    expect(byNumber!.data.contact).toEqual(contact);
    expect(byUser!.data.contact).toEqual(contact);
    expect(other!.data.contact).toBeUndefined();
  });

  test("an inbound message's sender entry reaches data.contact whole: username, country code, identity key hash, parent user id", () => {
    const [message] = normalizePayload(value({ contacts: [contact], messages: [{ from: "16505551234", id: "wamid.M", timestamp: "1767225600", type: "text", text: { body: "hi" } }] }));
    expect(message!.data).toMatchObject({ profile_name: "Kai", contact });
  });
});

describe("dedup per occurrence", () => {
  test("each new shape posted twice (Meta's retry) is stored once", async () => {
    const p = pipeline();
    const payloads = NEW_FIXTURES.map((f) => fixture(f).payload);
    const expected = payloads.flatMap((b) => normalizePayload(b)).length;
    for (const body of [...payloads, ...payloads]) p.post(body);
    await drain(p);
    expect(p.count("SELECT count(*) n FROM events")).toBe(expected);
    expect(p.count("SELECT coalesce(sum(duplicates), 0) n FROM dedup_keys")).toBe(expected);
  });

  test("two different participant changes in the same second are two events", () => {
    const add = (wa_id: string) => ({ timestamp: "1767225600", group_id: "G1", type: "group_participants_add", reason: "invite_link", added_participants: [{ wa_id }] });
    const events = normalizePayload(groups("group_participants_update", [add("16505551234"), add("16505551235")]));
    expect(events.map((e) => e.type)).toEqual(["group.participants", "group.participants"]);
    expect(new Set(events.map((e) => e.dedupKey)).size).toBe(2);
  });

  test("a message seen live and again in history is one message.received and one history.message", async () => {
    const p = pipeline();
    p.post(fixture("message_text").payload);
    const live = normalizePayload(fixture("message_text").payload)[0]!;
    const past = { from: "16505551234", id: live.data.wamid, timestamp: "1749416383", type: "text", text: { body: "x" }, history_context: { status: "READ" } };
    const body = change("history", { messaging_product: "whatsapp", history: [{ metadata: { phase: 0, chunk_order: 1, progress: 100 }, threads: [{ id: "16505551234", messages: [past] }] }] });
    p.post(body);
    p.post(body);
    await drain(p);
    expect(types(p)).toEqual(["message.received", "history.sync", "history.message"]);
  });

  test("any mix of history chunks, retried and re-batched: one event per distinct message and chunk", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 3 }), async (ids, copies) => {
        const p = pipeline();
        const chunk = (id: number) => ({ metadata: { phase: 0, chunk_order: id, progress: 50 }, threads: [{ id: "16505551234", messages: [{ from: "16505551234", id: `wamid.H${id}`, timestamp: "1740000000", type: "text", text: { body: "x" } }] }] });
        // Odd copies: all chunks in one POST; even copies: re-batched, one POST per chunk.
        for (let c = 0; c < copies; c++) {
          if (c % 2 === 0) p.post(change("history", { messaging_product: "whatsapp", history: ids.map(chunk) }, 1767225600));
          // Re-batched under another entry.time: the chunk is named by its metadata, still one.
          else for (const id of ids) p.post(change("history", { messaging_product: "whatsapp", history: [chunk(id)] }, 1767225600 + c));
        }
        await drain(p);
        expect(p.count("SELECT count(*) n FROM events WHERE type = 'history.message'")).toBe(ids.length);
        expect(p.count("SELECT count(*) n FROM events WHERE type = 'history.sync'")).toBe(ids.length);
      }),
      { numRuns: 20 },
    );
  });
});

test("media sent after its placeholder names its chat: the user the business sent it to, or the user who sent it", () => {
  const metadata = { display_phone_number: "15550783881", phone_number_id: "106540352242922" };
  const late = (m: object) => normalizePayload(change("history", { messaging_product: "whatsapp", metadata, messages: [{ id: "wamid.L1", timestamp: "1759000001", type: "image", image: { id: "m9", mime_type: "image/jpeg" }, ...m }] }))[0]!;
  expect(late({ from: "15550783881", to: "16505557301" }).data.thread).toBe("16505557301");
  expect(late({ from: "16505557301" }).data.thread).toBe("16505557301");
  expect(late({}).data.thread).toBeNull();
});

describe("history is not live traffic", () => {
  test("history messages start no tracking, contact or inbound state", async () => {
    const p = pipeline();
    p.post(fixture("history").payload);
    await drain(p);
    expect(types(p)).toEqual(["history.sync", "history.message", "history.message", "history.message"]);
    for (const table of ["inbound_messages", "contacts", "outbound_messages", "tracked_messages", "state_values"]) expect({ table, n: p.count(`SELECT count(*) n FROM ${table}`) }).toEqual({ table, n: 0 });
  });
});

describe("state by Meta's clock", () => {
  const status = (type: string, timestamp: number) => groups("group_status_update", [{ timestamp, type, group_id: "G1" }]);

  test("a late suspension notice does not undo a newer 'cleared'; both are events, the late one flagged", async () => {
    const p = pipeline();
    p.post(status("group_suspend_cleared", 1767229200));
    p.post(status("group_suspend", 1767225600));
    await drain(p);
    expect(p.db.query("SELECT value FROM state_values WHERE subject = 'group' AND subject_id = 'G1' AND attribute = 'suspended'").get()).toEqual({ value: "false" });
    expect(p.db.query("SELECT json_extract(envelope, '$.data.state_changed') c FROM events ORDER BY rowid").all()).toEqual([{ c: 1 }, { c: 0 }]);
    expect(p.count("SELECT count(*) n FROM state_history WHERE subject = 'group'")).toBe(2);
  });

  test("business username: a retried 'approved' after the newer 'deleted' leaves it deleted", async () => {
    const p = pipeline();
    p.post(fixture("business_username_deleted").payload);
    p.post(fixture("business_username").payload);
    await drain(p);
    const state = p.db.query("SELECT attribute, value FROM state_values WHERE subject = 'phone_number' ORDER BY attribute").all();
    expect(state).toEqual([
      { attribute: "username", value: null },
      { attribute: "username_status", value: "deleted" },
    ]);
  });
});

describe("nothing dropped", () => {
  test("malformed parts become webhook.unknown with a reason, beside their typed siblings", () => {
    const cases: [unknown, string[]][] = [
      [groups("group_status_update", [null, { type: "group_suspend", group_id: "G1", timestamp: 1767225600 }]), ["item is not an object", "-"]],
      [change("group_lifecycle_update", { groups: "nope" }), ["groups is not an array"]],
      [change("group_settings_update", { messaging_product: "whatsapp" }), ["group_settings_update value without groups"]],
      [change("smb_app_state_sync", { state_sync: [{ action: "add" }] }), ["state_sync item without type"]],
      [change("history", { history: [42] }), ["item is not an object"]],
      [change("history", { history: [{ threads: [{ id: "1", messages: [{ id: "wamid.X" }] }] }] }), ["-", "message without id or type"]],
      [change("automatic_events", { automatic_events: [{ id: "wamid.A" }] }), ["automatic event without id or event_name"]],
      [change("partner_solutions", "SOLUTION_CREATED"), ["value is not an object"]],
      [change("messages", { messaging_product: "whatsapp", user_actions: [{ timestamp: "1767225600" }] }), ["user action without action_type"]],
      [change("messages", { messaging_product: "whatsapp", user_actions: {} }), ["user_actions is not an array"]],
    ];
    for (const [body, reasons] of cases) {
      const got = normalizePayload(body).map((e) => (e.type === "webhook.unknown" ? e.data.reason : "-"));
      expect({ body, got }).toEqual({ body, got: reasons });
    }
  });
});
