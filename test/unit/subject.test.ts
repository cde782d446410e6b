/** What an event is about (events/subject.ts): the admin API's wamid and from filters, and erasure. */
import { expect, test } from "bun:test";
import { eventSubject } from "../../src/events/subject";
import { erasePerson } from "../../src/whatsapp/erase";
import { mentionsOf } from "../../src/whatsapp/phone-mention";

test("the person is the sender, a status's recipient (a group's participant), an echo's recipient", () => {
  expect(eventSubject("message.received", { wamid: "wamid.A", from: "16505551234" })).toEqual({ wamid: "wamid.A", waId: "16505551234" });
  expect(eventSubject("message.status", { wamid: "wamid.B", recipient_id: "16505551234" })).toEqual({ wamid: "wamid.B", waId: "16505551234" });
  expect(eventSubject("message.status", { wamid: "wamid.C", recipient_id: "120363040000000000", recipient_participant_id: "16505550000" }).waId).toBe("16505550000");
  // A username participant (no number): by user id, not the group id beside it.
  expect(eventSubject("message.status", { wamid: "wamid.G", recipient_id: "120363040000000000", recipient_type: "group", recipient_participant_user_id: "US.111222333444555" }).waId).toBe("US.111222333444555");
  expect(eventSubject("message.status", { wamid: "wamid.G", recipient_id: "120363040000000000", recipient_participant_parent_user_id: "US.ENT.9" }).waId).toBe("US.ENT.9");
  expect(eventSubject("message.echo", { id: "wamid.E", from: "15550783881", to: "16505551234" })).toEqual({ wamid: "wamid.E", waId: "16505551234" });
  expect(eventSubject("user.preferences", { wa_id: "16505551234" }).waId).toBe("16505551234");
  expect(eventSubject("template.status", { message_template_id: 1 })).toEqual({ wamid: null, waId: null });
});

test("a username user (no phone number) is found by their user id (BSUID), as their contact is stored; a number still comes first", () => {
  expect(eventSubject("message.received", { wamid: "wamid.U", from: "", from_user_id: "US.13491208655302741918" }).waId).toBe("US.13491208655302741918");
  expect(eventSubject("message.status", { wamid: "wamid.V", recipient_id: null, recipient_user_id: "US.13491208655302741918" }).waId).toBe("US.13491208655302741918");
  expect(eventSubject("message.status", { wamid: "wamid.W", recipient_id: "16505551234", recipient_user_id: "US.13491208655302741918" }).waId).toBe("16505551234");
  expect(eventSubject("user.preferences", { wa_id: null, user_id: "US.1" }).waId).toBe("US.1");
  expect(eventSubject("call.event", { direction: "USER_INITIATED", from: null, from_user_id: "US.2", to: "15550783881" }).waId).toBe("US.2"); // never the business's number
  expect(eventSubject("call.event", { direction: "BUSINESS_INITIATED", from: "15550783881", to: null, to_user_id: "US.3" }).waId).toBe("US.3");
});

test("a call is about its user: the caller of a call they placed, the callee of one the business placed, a status's recipient", () => {
  expect(eventSubject("call.event", { direction: "USER_INITIATED", from: "16505551234", to: "15550783881" }).waId).toBe("16505551234");
  expect(eventSubject("call.event", { direction: "BUSINESS_INITIATED", from: "15550783881", to: "16505551234" }).waId).toBe("16505551234");
  expect(eventSubject("call.event", { direction: null, from: null, to: "16505551234", recipient_id: "16505551234" }).waId).toBe("16505551234");
  expect(eventSubject("call.event", { event: "connect" }).waId).toBeNull();
});

test("an echo kept as Meta sent it: a numeric `to`, or one with a +, is the same person", () => {
  expect(eventSubject("message.echo", { id: "wamid.E", to: 16505551234 }).waId).toBe("16505551234");
  expect(eventSubject("message.echo", { id: "wamid.E", to: "+16505551234" }).waId).toBe("16505551234");
  expect(eventSubject("message.echo", { id: "wamid.E", to: "" }).waId).toBeNull();
});

test("erasing a person from a body keeps everyone else's items", () => {
  const body = JSON.stringify({
    object: "whatsapp_business_account",
    entry: [{ id: "1", changes: [{ field: "messages", value: { contacts: [{ wa_id: "111" }, { wa_id: "222" }], messages: [{ from: "111", id: "a" }, { from: "222", id: "b" }], statuses: [{ id: "c", recipient_id: "111" }] } }] }],
  });
  const out = erasePerson(body, mentionsOf("111"))!;
  expect(out.removed).toBe(3);
  expect(out.body).not.toContain("111");
  expect(JSON.parse(out.body).entry[0].changes[0].value.messages).toEqual([{ from: "222", id: "b" }]);
  expect(erasePerson("not json, from 111", mentionsOf("111"))).toBeNull();
});
