/** Finding a person's number in any text and cutting it out of a webhook of any shape (whatsapp/phone-mention.ts, whatsapp/erase.ts). */
import { expect, test } from "bun:test";
import { erasePerson } from "../../src/whatsapp/erase";
import { mentionsOf, waIdDigits } from "../../src/whatsapp/phone-mention";

const NUMBER = "16505551234";
const mentions = mentionsOf(NUMBER);

test("a text mentions the number in any usual writing of it, and not inside another number", () => {
  for (const text of [NUMBER, `+${NUMBER}`, "+1 (650) 555-1234", "1-650-555-1234", "1.650.555.1234", "1/650/555/1234", "1\u00a0650\u00a0555\u00a01234", "00 1 650 555 1234", `0016505551234`, `tel:${NUMBER};`, `"wa_id":"${NUMBER}"`]) {
    expect({ text, mentions: mentions(text) }).toEqual({ text, mentions: true });
  }
  for (const text of [`1${NUMBER}`, `${NUMBER}9`, "(650) 555-1234", "1650555123", "1 6 5 0 5 5 5 1 2 3", "1--- 650 555 1234", "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQz"]) {
    expect({ text, mentions: mentions(text) }).toEqual({ text, mentions: false });
  }
});

test("a wa_id is its digits, a leading + and separators allowed; anything else is refused", () => {
  expect(waIdDigits("16505551234")).toBe(NUMBER);
  expect(waIdDigits("+1 (650) 555-1234")).toBe(NUMBER);
  for (const bad of ["", "abc", "123456", "1234567890123456", "1650555123x", "++16505551234"]) expect(waIdDigits(bad)).toBeNull();
});

const envelope = (entries: unknown[], extra: Record<string, unknown> = {}) => JSON.stringify({ object: "whatsapp_business_account", entry: entries, ...extra });
const change = (field: string, value: unknown) => ({ field, value });

test("the smallest part that mentions them goes: an item, else its change, else its entry; the rest stays", () => {
  const them = { from: NUMBER, id: "wamid.THEM", type: "text", text: { body: "hello" } };
  const quoting = { from: "447700900123", id: "wamid.QUOTE", type: "text", text: { body: "call +1 650 555 1234" } };
  const sharing = { from: "447700900123", id: "wamid.CARD", type: "contacts", contacts: [{ name: { formatted_name: "Their Name" }, phones: [{ phone: "+1 650-555-1234" }] }] };
  const other = { from: "447700900123", id: "wamid.OTHER", type: "text", text: { body: "hi" } };
  const body = envelope([
    {
      id: "1",
      changes: [
        change("messages", { metadata: { phone_number_id: "106540352242922" }, contacts: [{ wa_id: NUMBER, profile: { name: "Their Profile" } }], messages: [them, quoting, sharing, other] }),
        change("contact_sync", { user: { phone: "+1 (650) 555-1234", name: "Their Name" }, note: "their note" }),
        change("contact_sync", { user: { phone: "+44 20 7946 0000", name: "Someone Else" } }),
      ],
    },
    { id: "2", note: `entry-level ${NUMBER}`, changes: [change("messages", { messages: [other] })] },
  ]);
  const out = erasePerson(body, mentions)!;
  // Their profile, their message, the quoting one, the shared card (and its name), the change, the entry.
  expect(out.removed).toBe(6);
  expect(mentions(out.body)).toBe(false);
  expect(out.body).not.toContain("Their Name");
  expect(out.body).not.toContain("their note");
  const kept = JSON.parse(out.body);
  expect(kept.entry).toHaveLength(1);
  expect(kept.entry[0].changes[0].value.messages).toEqual([other]);
  expect(kept.entry[0].changes[0].value.metadata).toEqual({ phone_number_id: "106540352242922" });
  expect(kept.entry[0].changes.map((c: { value: unknown }) => JSON.stringify(c.value))).toContain(JSON.stringify({ user: { phone: "+44 20 7946 0000", name: "Someone Else" } }));
});

test("in a history chunk the unit is the thread: their conversation goes, everyone else's threads and the chunk's own parts stay", () => {
  const thread = (id: string, body: string) => ({ id, messages: [{ from: id, id: `wamid.H${id}`, timestamp: "1749416383", type: "text", text: { body }, history_context: { status: "READ" } }] });
  const chunk = { metadata: { phase: 0, chunk_order: 1, progress: 40 }, threads: [thread("447700900123", "first"), thread(NUMBER, "their words"), thread("447700900456", "third")] };
  const out = erasePerson(envelope([{ id: "1", changes: [change("history", { messaging_product: "whatsapp", metadata: { phone_number_id: "106540352242922" }, history: [chunk] })] }]), mentions)!;
  expect(out.removed).toBe(1);
  expect(mentions(out.body)).toBe(false);
  expect(out.body).not.toContain("their words");
  const kept = JSON.parse(out.body).entry[0].changes[0].value.history;
  expect(kept).toHaveLength(1);
  expect(kept[0].metadata).toEqual(chunk.metadata);
  expect(kept[0].threads.map((t: { id: string }) => t.id)).toEqual(["447700900123", "447700900456"]);
});

test("a body that mentions them with no part to cut out goes whole; one that does not mention them is untouched", () => {
  expect(erasePerson(JSON.stringify({ hello: "world", phone: NUMBER, name: "Their Name" }), mentions)).toBeNull();
  expect(erasePerson(`phone=1-650-555-1234&name=Their+Name`, mentions)).toBeNull();
  expect(erasePerson(envelope([{ id: "1", changes: [] }], { owner: `+${NUMBER}` }), mentions)).toBeNull();
  for (const body of ["not json at all", JSON.stringify({ hello: "world" }), envelope([{ id: "1", changes: [change("messages", { messages: [{ from: "447700900123" }] })] }])]) {
    expect(erasePerson(body, mentions)).toEqual({ body, removed: 0 });
  }
});
