/**
 * Erasure's walk (admin/contacts.ts) on a real database filled by the real pipeline:
 * every webhook and event that mentions the number is found, wherever it sits in the
 * tables, however the walk's steps grow; everyone else's stay.
 */
import { expect, test } from "bun:test";
import { eraseContact, getContact } from "../../src/admin/contacts";
import { personId } from "../../src/whatsapp/phone-mention";
import { pipeline } from "../support/pipeline";
import { METADATA, textMessage } from "../support/webhooks";

const PERSON = "16505551234";
const OTHER = "447700900123";

test("every mention is found across the whole walk, at every key", async () => {
  const p = pipeline();
  const quoting = new Set<number>();
  for (let i = 0; i < 2_000; i++) {
    // Someone else's messages; some quote the number, at keys spread over every step of the walk.
    const quotes = i % 37 === 5;
    if (quotes) quoting.add(i);
    p.post(textMessage(`wamid.W${i}`, quotes ? "call THEM" : `hello ${i}`).replaceAll(PERSON, OTHER).replace("THEM", `+1 650 555 1234`));
  }
  while ((await p.processor.runOnce()).jobs > 0);
  const answer = await eraseContact(p.db, PERSON, p.clock.now());
  expect(answer.status).toBe(200);
  const erased = (answer.body as { erased: Record<string, number> }).erased;
  // Each quoting webhook held only that message: its event and the webhook go.
  expect(erased).toMatchObject({ events: quoting.size, events_mentioning: quoting.size, webhooks_deleted: quoting.size, contact: 0 });
  expect(p.count("SELECT count(*) n FROM events")).toBe(2_000 - quoting.size);
  expect(p.count("SELECT count(*) n FROM inbox_bodies WHERE instr(body, '650 555 1234') > 0")).toBe(0);
});

test("a user id of the form Meta's own examples use (user.<hex>) is looked up and erased as written, not by its digits", async () => {
  const USER = "user.9373795779eb4a2c";
  const p = pipeline();
  const fromUser = (wamid: string, userId: string, body: string) =>
    JSON.stringify({
      object: "whatsapp_business_account",
      entry: [{ id: "102290129340398", changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata: METADATA, contacts: [{ profile: { name: "Kai", username: "kai" }, user_id: userId }], messages: [{ from_user_id: userId, id: wamid, timestamp: "1767225600", type: "text", text: { body } }] } }] }],
    });
  p.post(fromUser("wamid.U1", USER, "hello"));
  p.post(fromUser("wamid.U2", `${USER}ff`, "someone else, whose id only starts like theirs"));
  p.post(textMessage("wamid.Q1", `my friend is ${USER}, ask them`).replaceAll(PERSON, OTHER));
  p.post(textMessage("wamid.Q2", "digits alone are not them: 9373795779 4 2").replaceAll(PERSON, OTHER));
  while ((await p.processor.runOnce()).jobs > 0);

  expect(getContact(p.db, USER)).toMatchObject({ status: 200, body: { wa_id: USER, profile_name: "Kai" } });
  const answer = await eraseContact(p.db, USER, p.clock.now());
  expect(answer.status).toBe(200);
  const left = p.db.query<{ wamid: string }, []>("SELECT wamid FROM events WHERE wamid IS NOT NULL ORDER BY wamid").all().map((r) => r.wamid);
  expect(left).toEqual(["wamid.Q2", "wamid.U2"]);
  expect(p.count(`SELECT count(*) n FROM inbox_bodies WHERE instr(body, '${USER}"') > 0 OR instr(body, '${USER},') > 0`)).toBe(0);
  expect(getContact(p.db, USER).status).toBe(404);
});

test("what a person is looked up by: a number, or a user id of any form Meta writes; nothing else", () => {
  for (const [raw, id] of [
    ["+1 (650) 555-1234", "16505551234"],
    ["US.13491208655302741918", "US.13491208655302741918"],
    ["US.ENT.11815799212886844830", "US.ENT.11815799212886844830"],
    [" user.9373795779eb4a2c ", "user.9373795779eb4a2c"],
    ["12345", null],
    ["abc", null],
    ["users", null],
    ["", null],
    ["<script>", null],
    ["../etc", null],
    ["x".repeat(200), null],
  ] as const) expect({ raw, id: personId(raw) }).toEqual({ raw, id });
});
