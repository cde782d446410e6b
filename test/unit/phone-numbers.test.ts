/**
 * Notices that name a phone number only by its display number (phone_number_quality_update,
 * phone_number_name_update, security, business_username_update) reach the hooks filtered
 * to that number's phone_number_id, learned from its messages' metadata, and keep
 * reaching them after a restart (learned again from the stored events); both engines.
 */
import { expect, test } from "bun:test";
import { PhoneNumberBook } from "../../src/worker/phone-numbers";
import { normalizePayload } from "../../src/whatsapp/normalize";
import { fixture, hook, pipeline } from "../support/pipeline";
import { migratedDatabase } from "../support/postgres";
import { postgresPipeline } from "../support/postgres-pipeline";

const NUMBER_ID = "106540352242922"; // the fixtures' metadata: display number 15550783881
const hooks = [hook({ name: "mine", url: "http://127.0.0.1:9/", phone_number_ids: [NUMBER_ID] }), hook({ name: "other", url: "http://127.0.0.1:9/", phone_number_ids: ["999"] })];
const quality = () => fixture("phone_number_quality").payload;
const message = () => fixture("message_text").payload;
const DELIVERIES = `SELECT e.type || ' ' || coalesce(e.phone_number_id, '-') || ' ' || d.hook AS n FROM deliveries d JOIN events e ON e.id = d.event_id ORDER BY e.id, d.hook`;

test("the book learns a display number's id from an event that has both, fills it in where only the display number came, newest pairing wins", () => {
  const book = new PhoneNumberBook();
  const [notice] = normalizePayload(quality());
  book.see(notice!);
  expect(notice!.phoneNumberId).toBeNull(); // nothing learned yet
  book.learnAll([{ display: "+1 555-078-3881", id: "old" }, { display: "15550783881", id: NUMBER_ID }]);
  const [again] = normalizePayload(quality());
  book.see(again!);
  expect(again!.phoneNumberId).toBe(NUMBER_ID);
  const [fromMessage] = normalizePayload(message());
  book.see(fromMessage!);
  expect(fromMessage!.phoneNumberId).toBe(NUMBER_ID); // its own, untouched
});

test("SQLite: a quality notice after a message of the number goes to the hook of that number, also after a restart; before any message, to none", async () => {
  const p = pipeline(hooks);
  p.post(quality()); // nothing of the number seen yet
  while ((await p.processor.runOnce()).jobs > 0);
  p.post(message());
  p.post(JSON.parse(JSON.stringify(quality()).replace("1751247548", "1751247600")));
  while ((await p.processor.runOnce()).jobs > 0);
  const restarted = p.newProcessor(); // learns again from what is stored
  p.post(JSON.parse(JSON.stringify(quality()).replace("1751247548", "1751247700")));
  while ((await restarted.runOnce()).jobs > 0);
  const rows = p.db.query(DELIVERIES).all() as { n: string }[];
  expect(rows.map((r) => r.n)).toEqual([`message.received ${NUMBER_ID} mine`, `phone_number.quality ${NUMBER_ID} mine`, `phone_number.quality ${NUMBER_ID} mine`]);
  expect(p.count("SELECT count(*) n FROM events WHERE type = 'phone_number.quality' AND phone_number_id IS NULL")).toBe(1); // the first, before any message
});

test("PostgreSQL: the same, a new instance learning from the stored events", async () => {
  const p = await postgresPipeline((await migratedDatabase()).sql, hooks);
  await p.post(message());
  while ((await p.processor.runOnce()).jobs > 0);
  const other = await p.newInstance("other-instance");
  await p.post(quality());
  while ((await other.processor.runOnce()).jobs > 0);
  const rows = [...(await p.sql.unsafe(DELIVERIES))] as { n: string }[];
  expect(rows.map((r) => r.n)).toEqual([`message.received ${NUMBER_ID} mine`, `phone_number.quality ${NUMBER_ID} mine`]);
});
