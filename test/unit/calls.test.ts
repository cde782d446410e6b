/** `call.event`: the kind of each item, and dedup per occurrence now that `data` is typed. */
import { expect, test } from "bun:test";
import { callKind } from "../../src/whatsapp/calls";
import { normalizePayload } from "../../src/whatsapp/normalize";

const post = (value: object, time = 1751000100) => ({
  object: "whatsapp_business_account",
  entry: [{ id: "102290129340398", time, changes: [{ field: "calls", value: { messaging_product: "whatsapp", metadata: { display_phone_number: "15550783881", phone_number_id: "106540352242922" }, ...value } }] }],
});
const ringing = { id: "wacid.1", timestamp: "1751000010", type: "call", status: "RINGING", recipient_id: "16505551234" };

test("the kind: a statuses[] item is a status; a calls[] item is what its event names, any case; else other", () => {
  expect(callKind("statuses", "connect")).toBe("status");
  expect(callKind("calls", "connect")).toBe("connect");
  expect(callKind("calls", "TERMINATE")).toBe("terminate");
  expect(callKind("calls", "call_recording_available")).toBe("recording");
  expect(callKind("calls", "call_transcription_available")).toBe("transcript");
  expect(callKind("calls", "call_hold")).toBe("other");
  expect(callKind("calls", undefined)).toBe("other");
  expect(callKind("calls", "constructor")).toBe("other");
});

test("dedup per occurrence: a retried POST is the same key; RINGING then ACCEPTED of one call are two", () => {
  const once = normalizePayload(post({ statuses: [ringing] }));
  const retried = normalizePayload(post({ statuses: [ringing] }));
  const accepted = normalizePayload(post({ statuses: [{ ...ringing, status: "ACCEPTED", timestamp: "1751000015" }] }));
  expect(retried[0]!.dedupKey).toBe(once[0]!.dedupKey);
  expect(accepted[0]!.dedupKey).not.toBe(once[0]!.dedupKey);
  // Two statuses of one call in one POST: two occurrences.
  const both = normalizePayload(post({ statuses: [ringing, { ...ringing, status: "ACCEPTED" }] }));
  expect(new Set(both.map((e) => e.dedupKey)).size).toBe(2);
});

test("a non-list calls or statuses is one unknown beside the other list's items", () => {
  const events = normalizePayload(post({ calls: { id: "wacid.1" }, statuses: [ringing] }));
  expect(events.map((e) => [e.type, e.data.reason ?? e.data.kind])).toEqual([
    ["webhook.unknown", "calls is not an array"],
    ["call.event", "status"],
  ]);
});
