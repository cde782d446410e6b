/**
 * Erasure's walk (admin/contacts.ts) on a real database filled by the real pipeline:
 * every webhook and event that mentions the number is found, wherever it sits in the
 * tables, however the walk's steps grow; everyone else's stay.
 */
import { expect, test } from "bun:test";
import { eraseContact } from "../../src/admin/contacts";
import { pipeline } from "../support/pipeline";
import { textMessage } from "../support/webhooks";

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
