/**
 * A dedup key identifies one occurrence: Meta's retries and re-batches (byte-identical
 * items) are dropped, real repeats are not (real SQLite, through the processor).
 */
import { describe, expect, test } from "bun:test";
import { pipeline } from "../support/pipeline";

const WABA = "102290129340398";
const metadata = { display_phone_number: "15550783881", phone_number_id: "106540352242922" };
const statuses = (...items: object[]) => ({ object: "whatsapp_business_account", entry: [{ id: WABA, changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata, statuses: items } }] }] });
const notice = (field: string, time: number, value: object) => ({ object: "whatsapp_business_account", entry: [{ id: WABA, time, changes: [{ field, value }] }] });

async function run(...posts: unknown[]) {
  const p = pipeline();
  for (const body of posts) p.post(body);
  while ((await p.processor.runOnce()).jobs > 0);
  return {
    events: p.count("SELECT count(*) n FROM events"),
    duplicates: p.count("SELECT coalesce(sum(duplicates), 0) n FROM dedup_keys"),
  };
}

describe("statuses", () => {
  const group = (participant: string, status: string) => ({
    id: "wamid.GROUP1", status, timestamp: "1750030073", recipient_id: "120363025246125888@g.us", recipient_type: "group", recipient_participant_id: participant,
  });

  test("a group message's per-participant statuses are each their own event, in one value or in later webhooks", async () => {
    expect(await run(statuses(group("16505551234", "delivered"), group("16505559999", "delivered")), statuses(group("16505550000", "delivered")), statuses(group("16505551234", "read")))).toEqual({ events: 4, duplicates: 0 });
  });

  test("the participant under the other name Meta's groups page uses, or by parent user id alone, is a participant all the same", async () => {
    const { recipient_participant_id: _, ...groupStatus } = group("", "delivered");
    const other = (participant: string, status = "delivered") => ({ ...groupStatus, status, participant_recipient_id: participant });
    const parent = (id: string) => ({ ...groupStatus, recipient_participant_parent_user_id: id });
    expect(await run(statuses(other("16505550011"), other("16505550012")), statuses(other("16505550012", "read")), statuses(other("16505550011")))).toEqual({ events: 3, duplicates: 1 });
    expect(await run(statuses(parent("US.ENT.1"), parent("US.ENT.2")), statuses(parent("US.ENT.2")))).toEqual({ events: 2, duplicates: 1 });
    // Either name, the same participant: one occurrence.
    expect(await run(statuses(group("16505550011", "delivered")), statuses(other("16505550011")))).toEqual({ events: 1, duplicates: 1 });
  });

  test("a retried or re-batched participant status is a duplicate", async () => {
    const a = group("16505551234", "delivered");
    const b = group("16505559999", "delivered");
    expect(await run(statuses(a, b), statuses(b), statuses(a, b))).toEqual({ events: 2, duplicates: 3 });
  });

  test("a 1:1 status keeps its key: wamid + status", async () => {
    const s = { id: "wamid.ONE", status: "delivered", timestamp: "1750030073", recipient_id: "16505551234" };
    expect(await run(statuses(s), statuses(s))).toEqual({ events: 1, duplicates: 1 });
  });

  test("a refund after a capture, under the same id and status name, is a new occurrence", async () => {
    const payment = (extra: object) => ({ id: "order_123", status: "captured", type: "payment", timestamp: "1750030073", recipient_id: "916505551234", payment: { reference_id: "order_123", amount: { value: 21000, offset: 100 }, currency: "INR", transaction: { id: "txn_1", type: "upi", status: "success" }, ...extra } });
    const captured = payment({});
    const refunded = payment({ refunds: [{ id: "rfnd_1", amount: { value: 21000, offset: 100 }, status: "success" }] });
    expect(await run(statuses(captured), statuses(refunded), statuses(captured))).toEqual({ events: 2, duplicates: 1 });
  });
});

describe("account-level notices", () => {
  const paused = (time: number) => notice("message_template_status_update", time, { event: "PAUSED", message_template_id: 1689556908129832, message_template_name: "order_update", message_template_language: "en_US", reason: "LOW_QUALITY" });
  const resumed = (time: number) => notice("message_template_status_update", time, { event: "APPROVED", message_template_id: 1689556908129832, message_template_name: "order_update", message_template_language: "en_US", reason: null });

  test("paused, unpaused, paused, unpaused: four events; each retried: still four", async () => {
    expect(await run(paused(1751000000), resumed(1751003600), paused(1751007200), resumed(1751010800), paused(1751000000), resumed(1751010800))).toEqual({ events: 4, duplicates: 2 });
  });

  test("a quality rating that swings back, a number flagged twice, a second PIN change: each kept", async () => {
    const quality = (time: number, from: string, to: string) => notice("message_template_quality_update", time, { previous_quality_score: from, new_quality_score: to, message_template_id: 1, message_template_name: "t", message_template_language: "en_US" });
    const flagged = (time: number) => notice("phone_number_quality_update", time, { display_phone_number: "15550783881", event: "FLAGGED", current_limit: "TIER_1K" });
    const pin = (time: number) => notice("security", time, { display_phone_number: "15550783881", event: "PIN_CHANGED" });
    expect(await run(quality(1751000000, "GREEN", "YELLOW"), quality(1751000100, "YELLOW", "GREEN"), quality(1751000200, "GREEN", "YELLOW"))).toEqual({ events: 3, duplicates: 0 });
    expect(await run(flagged(1751000000), flagged(1751090000), flagged(1751000000))).toEqual({ events: 2, duplicates: 1 });
    expect(await run(pin(1751000000), pin(1751500000))).toEqual({ events: 2, duplicates: 0 });
  });
});

describe("nothing dropped, context kept (value level)", () => {
  const calls = (value: object) => ({ object: "whatsapp_business_account", entry: [{ id: WABA, time: 1751000000, changes: [{ field: "calls", value: { messaging_product: "whatsapp", metadata, ...value } }] }] });
  const callError = { code: 138006, title: "Lack of call permission", message: "Lack of call permission", error_data: { details: "User did not grant call permission" } };

  test("a calls value holding only value-level errors is an event, not zero", async () => {
    const p = pipeline();
    p.post(calls({ errors: [callError] }));
    await p.processor.runOnce();
    const rows = p.db.query("SELECT type, envelope FROM events").all() as { type: string; envelope: string }[];
    expect(rows.map((r) => r.type)).toEqual(["webhook.error"]);
    expect(JSON.parse(rows[0]!.envelope).data.errors[0]).toMatchObject({ code: 138006, details: "User did not grant call permission" });
  });

  test("a call's value-level errors reach the call's event as data.errors", async () => {
    const p = pipeline();
    p.post(calls({ calls: [{ id: "wacid.1", from: "16505551234", to: "15550783881", event: "terminate", status: "FAILED", timestamp: "1751000000" }], errors: [callError] }));
    await p.processor.runOnce();
    const envelope = JSON.parse((p.db.query("SELECT envelope FROM events").get() as { envelope: string }).envelope);
    expect(envelope.type).toBe("call.event");
    expect(envelope.data.errors).toEqual([{ code: 138006, title: "Lack of call permission", message: "Lack of call permission", details: "User did not grant call permission" }]);
  });
});

describe("identity without phone numbers", () => {
  const messages = (msgs: object[], contacts: object[]) => ({ object: "whatsapp_business_account", entry: [{ id: WABA, changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata, contacts, messages: msgs } }] }] });
  const text = (id: string, from: string, userId?: string) => ({ from, ...(userId ? { from_user_id: userId } : {}), id, timestamp: "1750030073", type: "text", text: { body: "hi" } });
  const names = async (body: unknown) => {
    const p = pipeline();
    p.post(body);
    await p.processor.runOnce();
    return (p.db.query("SELECT envelope FROM events ORDER BY rowid").all() as { envelope: string }[]).map((r) => JSON.parse(r.envelope).data.profile_name);
  };

  test("two senders in one value each get their own profile name, whatever the order of contacts[]", async () => {
    expect(await names(messages([text("wamid.A", "111"), text("wamid.B", "222")], [{ wa_id: "222", profile: { name: "Bea" } }, { wa_id: "111", profile: { name: "Al" } }]))).toEqual(["Al", "Bea"]);
  });

  test("username users with no phone number are matched by user id, and their contact is keyed by it", async () => {
    const body = messages(
      [text("wamid.U1", "", "US.1"), text("wamid.U2", "", "US.2")],
      [{ wa_id: "", user_id: "US.2", profile: { name: "Two" } }, { wa_id: "", user_id: "US.1", profile: { name: "One" } }],
    );
    expect(await names(body)).toEqual(["One", "Two"]);
    const p = pipeline();
    p.post(body);
    await p.processor.runOnce();
    expect(p.db.query("SELECT wa_id, profile_name FROM contacts ORDER BY wa_id").all()).toEqual([
      { wa_id: "US.1", profile_name: "One" },
      { wa_id: "US.2", profile_name: "Two" },
    ]);
  });

  test("a contact entry that names someone else is never borrowed", async () => {
    expect(await names(messages([text("wamid.C", "333")], [{ wa_id: "444", profile: { name: "Other" } }]))).toEqual([null]);
  });
});
