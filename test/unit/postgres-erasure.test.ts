/**
 * Erasure on the PostgreSQL engine (DELETE /v1/contacts/{wa_id}), against a real server:
 * the same corpus erased on both engines gives the same counts and the same contact
 * answers; afterwards no text or bytes column of any table in the schema (found from the
 * catalogue, so a table added later is scanned too) mentions the number in any form;
 * a webhook an instance claimed before the erasure and commits after it adds nothing
 * of the person; a processing batch waits while an erasure runs.
 */
import { expect, test } from "bun:test";
import type { SQL } from "bun";
import { adminOps } from "../../src/admin/ops";
import { postgresAdminOps } from "../../src/admin/postgres-ops";
import type { ProcessingEngine } from "../../src/engine/processing";
import { postgresProcessing } from "../../src/store/postgres/processing-engine";
import { beforeErasing } from "../../src/store/postgres/erasure-gate";
import { postgresEventIds } from "../../src/store/postgres/event-ids";
import { Processor } from "../../src/worker/processor";
import { searchKey, mentionsOfAny, NUMBER_SEPARATORS } from "../../src/whatsapp/phone-mention";
import { fixtureCorpus, pipeline, quiet } from "../support/pipeline";
import { migratedDatabase } from "../support/postgres";
import { postgresPipeline } from "../support/postgres-pipeline";
import { METADATA, textMessage } from "../support/webhooks";

const PERSON = "16505551234";
/** The number PERSON changed to (the corpus's user_changed_number system message): the same person, erased with them. */
const NEW_NUMBER = "12195550000";
const OTHER = "447700900123";
/** Every id the person had: the numbers, and the user ids the corpus's user_id_update gives their number. */
const IDS = [PERSON, NEW_NUMBER, "US.13491208655302741918", "US.13491208655302741919", "US.ENT.11815799212886844830", "US.ENT.11815799212886844831"];
const mentionsPerson = mentionsOfAny(IDS);

const envelope = (...changes: unknown[]) => JSON.stringify({ object: "whatsapp_business_account", entry: [{ id: "102290129340398", time: 1751247548, changes }] });
/** The fixture corpus, and the number in shapes no index finds: an unknown field, JSON that is no envelope, a body not JSON, someone else's message quoting it. */
const CORPUS: unknown[] = [
  ...fixtureCorpus(),
  envelope(
    { field: "contact_sync", value: { user: { phone: "+1 (650) 555-1234", name: "Qzx Erasable" } } },
    { field: "contact_sync", value: { user: { phone: "+44 20 7946 0000", name: "Other Person Stays" } } },
  ),
  JSON.stringify({ hello: "world", phone: PERSON, name: "Wvy Erasable" }),
  "phone=1-650-555-1234&name=Jkq Erasable",
  envelope({
    field: "messages",
    value: {
      messaging_product: "whatsapp",
      metadata: METADATA,
      contacts: [{ profile: { name: "Ann Other" }, wa_id: OTHER }],
      messages: [
        { from: OTHER, id: "wamid.QUOTES", timestamp: "1749416383", type: "text", text: { body: "call 1 650 555 1234" } },
        { from: OTHER, id: "wamid.NOTTHEM", timestamp: "1749416384", type: "text", text: { body: "nothing about them" } },
      ],
    },
  }),
];

/** An outbound message to the person watched for SMS fallback, its moves and its SMS (rows the processing of these fixtures does not write). */
const TRACKED = [
  `INSERT INTO tracked_messages (wamid, recipient, text, state, created_at, updated_at) VALUES ('wamid.TRACKED', '${PERSON}', 'your code is 1234', 'fallback', 1, 1)`,
  `INSERT INTO tracked_timeline (wamid, seq, state, at, detail) VALUES ('wamid.TRACKED', 1, 'fallback', 1, '{"to":"${PERSON}"}')`,
  `INSERT INTO fallback_sends (wamid, state, recipient, text, reason, next_attempt_at, created_at, updated_at) VALUES ('wamid.TRACKED', 'sent', '${PERSON}', 'your code is 1234', 'stale', 1, 1, 1)`,
];

const noHooks = async () => [] as string[];
const pgAdmin = (sql: SQL) => postgresAdminOps(sql, () => null, () => [], noHooks, () => null);

/** Every (table, column) of the schema whose text or bytes mention the person (any id they had), and how many rows. */
async function traces(sql: SQL): Promise<string[]> {
  const columns = await sql`
    SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
    WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.data_type IN ('text', 'bytea', 'character varying', 'json', 'jsonb', 'character')
    ORDER BY 1, 2`;
  expect(columns.length).toBeGreaterThan(50);
  const found: string[] = [];
  const strip = NUMBER_SEPARATORS.join("") + "\u00c2";
  for (const { table_name: table, column_name: column, data_type: type } of columns) {
    const asText = type === "bytea" ? `convert_from("${column}", 'LATIN1')` : `"${column}"::text`;
    const rows = await sql.unsafe(`SELECT ${asText} AS v FROM "${table}" WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) d WHERE position(d IN translate(${asText}, $2, '')) > 0)`, [
      IDS.map(searchKey),
      strip,
    ]);
    const mentioning = rows.filter((r: { v: string }) => mentionsPerson(type === "bytea" ? new TextDecoder().decode(Buffer.from(r.v, "latin1")) : r.v));
    if (mentioning.length > 0) found.push(`${table}.${column}: ${mentioning.length}`);
  }
  return found;
}

test("the corpus erased on both engines: the same answers; afterwards no column of any table mentions the number, everyone else's data stays", async () => {
  const { sql } = await migratedDatabase();
  const pg = await postgresPipeline(sql);
  const lite = pipeline();
  await pg.postMany(CORPUS);
  lite.postMany(CORPUS);
  while ((await pg.processor.runOnce()).jobs > 0);
  while ((await lite.processor.runOnce()).jobs > 0);
  for (const q of TRACKED) {
    await sql.unsafe(q);
    lite.db.run(q);
  }
  const liteOps = adminOps(lite.db, null, []);
  const both = async (op: Parameters<typeof liteOps>[0]) => ({ pg: await pgAdmin(sql)(op), lite: await liteOps(op, lite.clock.now()) });

  /** An answer apart from the id it was asked by. */
  const shownBy = (a: { body: unknown }) => {
    const { wa_id: _asked, ...b } = a.body as Record<string, unknown>;
    return b;
  };
  expect(await traces(sql)).not.toEqual([]);
  expect(await pg.count("SELECT count(*) n FROM identities WHERE id = ANY(ARRAY['16505551234', '12195550000'])")).toBe(2);
  const contact = await both({ op: "contact", waId: `+${PERSON}` });
  // By the new number: the same person.
  const byNew = await both({ op: "contact", waId: NEW_NUMBER });
  expect(shownBy(byNew.pg)).toEqual(shownBy(contact.pg));
  expect(shownBy(byNew.lite)).toEqual(shownBy(contact.lite));
  expect(contact.pg.status).toBe(200);
  // Messages stored in one batch share a time, and which of those the newest 20 take is either engine's to pick: the same times, newest first.
  const shown = (a: { body: unknown }) => {
    const { recent_messages: recent, ...b } = a.body as { recent_messages: { at: string }[] };
    return { ...b, times: recent.map((m) => m.at) };
  };
  expect(shown(contact.pg)).toEqual(shown(contact.lite));
  // Their number changed (message_system), and their user ids (user_id_update names their number): one person.
  expect((contact.pg.body as { identity: unknown }).identity).toEqual({
    wa_id: NEW_NUMBER,
    user_id: "US.13491208655302741919",
    parent_user_id: "US.ENT.11815799212886844831",
    ids: [NEW_NUMBER, PERSON, "US.13491208655302741918", "US.13491208655302741919", "US.ENT.11815799212886844830", "US.ENT.11815799212886844831"],
  });
  expect((contact.pg.body as { recent_messages: unknown[] }).recent_messages).toHaveLength(20);

  // The business's own numbers (metadata on every webhook) are no person: refused on both, nothing erased.
  const eventsBefore = lite.count("SELECT count(*) n FROM events");
  for (const own of ["15550783881", "+1 555 078 3881", "106540352242922"]) {
    const refused = await both({ op: "erase-contact", waId: own });
    expect(refused.pg).toEqual(refused.lite);
    expect(refused.pg.status).toBe(400);
    expect((refused.pg.body as { reason: string }).reason).toContain("this business's own number");
  }
  expect(lite.count("SELECT count(*) n FROM events")).toBe(eventsBefore);
  expect(await pg.count("SELECT count(*) n FROM events")).toBe(eventsBefore);

  const erased = await both({ op: "erase-contact", waId: PERSON });
  expect(erased.pg.status).toBe(200);
  const { storage: _pgStorage, ...pgErased } = erased.pg.body as Record<string, unknown>;
  const { storage: _liteStorage, ...liteErased } = erased.lite.body as Record<string, unknown>;
  expect(pgErased).toEqual(liteErased);
  expect((pgErased.erased as Record<string, number>).fallback).toBe(3);
  expect(_pgStorage).toEqual({ freed_pages: 0, wal_emptied: false });

  expect(await traces(sql)).toEqual([]);
  // Everyone else's: the other change of the unknown field, the other message.
  expect(await pg.count(`SELECT count(*) n FROM events WHERE envelope LIKE '%Other Person Stays%'`)).toBe(1);
  expect(await pg.count(`SELECT count(*) n FROM events WHERE wamid = 'wamid.NOTTHEM'`)).toBe(1);
  expect(await pg.count(`SELECT count(*) n FROM inbox WHERE rewritten_at IS NOT NULL`)).toBe(lite.count("SELECT count(*) n FROM inbox WHERE rewritten_at IS NOT NULL"));
  expect(await pg.count(`SELECT count(*) n FROM events`)).toBe(lite.count("SELECT count(*) n FROM events"));

  const again = await both({ op: "erase-contact", waId: PERSON });
  expect(again.pg).toEqual(again.lite);
  expect(again.pg.status).toBe(404);
  for (const bad of ["abc", "123"]) {
    const refused = await both({ op: "contact", waId: bad });
    expect(refused.pg).toEqual(refused.lite);
    expect((await both({ op: "erase-contact", waId: bad })).pg.status).toBe(400);
  }
  expect((await both({ op: "contact", waId: PERSON })).pg.status).toBe(404);
  expect(await both({ op: "contact", waId: NEW_NUMBER })).toEqual({ pg: { status: 404, body: expect.anything() }, lite: { status: 404, body: expect.anything() } });
  expect(await pg.count("SELECT count(*) n FROM identities")).toBe(lite.count("SELECT count(*) n FROM identities"));
});

test("a webhook claimed before the erasure and committed after it adds nothing of the person: it is processed again from the rewritten body", async () => {
  const { sql } = await migratedDatabase();
  const pg = await postgresPipeline(sql);
  // Someone else's message quoting the number, and the person's own in the same webhook: rewritten, not deleted.
  const body = JSON.parse(textMessage("wamid.MINE")) as { entry: { changes: { value: { contacts: unknown[]; messages: unknown[] } }[] }[] };
  const value = body.entry[0]!.changes[0]!.value;
  value.contacts.push({ profile: { name: "Ann Other" }, wa_id: OTHER });
  value.messages.push({ from: OTHER, id: "wamid.THEIRS", timestamp: "1749416390", type: "text", text: { body: "ordinary" } });
  await pg.post(body);
  await pg.post(textMessage("wamid.EARLIER")); // only the person: emptied by the rewrite

  const engine = postgresProcessing(sql);
  let erasure: Promise<unknown> | undefined;
  // A real engine, whose commit starts only once an erasure ran between this batch's claim and its commit.
  const late: ProcessingEngine = {
    ...engine,
    commit: async (input, plan, after) => {
      erasure ??= pgAdmin(sql)({ op: "erase-contact", waId: PERSON });
      await erasure;
      return engine.commit(input, plan, after);
    },
  };
  const processor = new Processor(late, await postgresEventIds(sql), { instance: "late", hooks: [], maxAttempts: 3, batchSize: 100, leaseMs: 60_000, passBudgetMs: 60_000, clock: pg.clock, log: quiet });
  const first = await processor.runOnce();
  expect(first.jobs).toBe(2);
  expect(first.events).toBe(0); // nothing of the old bodies was committed
  const answer = (await erasure!) as { status: number; body: { erased: Record<string, number> } };
  expect(answer.status).toBe(200);
  expect(answer.body.erased).toMatchObject({ webhooks_rewritten: 2, events: 0 });
  expect(await pg.count(`SELECT count(*) n FROM inbox WHERE state = 'pending' AND lease_token IS NULL AND attempts = 0`)).toBe(2);
  // Processed again from the bodies as the erasure left them.
  while ((await pg.processor.runOnce()).jobs > 0);
  expect(await traces(sql)).toEqual([]);
  expect(await pg.count(`SELECT count(*) n FROM events WHERE wamid = 'wamid.THEIRS'`)).toBe(1);
  expect(await pg.count(`SELECT count(*) n FROM events WHERE wamid IN ('wamid.MINE', 'wamid.EARLIER')`)).toBe(0);
});

test("a processing batch waits while an erasure's transaction runs, and commits after it", async () => {
  const { sql } = await migratedDatabase();
  const pg = await postgresPipeline(sql);
  await pg.post(textMessage("wamid.WAITS", "hello").replaceAll(PERSON, OTHER));
  let release: () => void = () => {};
  const held = new Promise<void>((r) => (release = r));
  const erasing = sql.begin(async (tx) => {
    await beforeErasing(tx);
    await held;
  });
  const processing = pg.processor.runOnce();
  // The batch's commit is waiting for the gate (deterministic: the lock table says so).
  const waiting = async () => Number((await sql`SELECT count(*) n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND mode = 'ShareLock'`)[0].n);
  for (let i = 0; (await waiting()) === 0; i++) {
    if (i > 600) throw new Error("the batch never waited for the erasure's gate");
    await Bun.sleep(50);
  }
  expect(await pg.count("SELECT count(*) n FROM events")).toBe(0);
  release();
  await erasing;
  expect((await processing).events).toBe(1);
});

test("erasing one member of a group: their statuses of the group's message go; the message, the group's own status and the other members' stay (both engines)", async () => {
  const { sql } = await migratedDatabase();
  const pg = await postgresPipeline(sql);
  const lite = pipeline();
  const GROUP = "Y2FwaV9ncm91cDoxNTU1MDc4Mzg4MToxMjAzNjM0MDQ2OTQyMzM4MjA";
  const status = (status: string, at: number, participant?: string) =>
    JSON.stringify({
      object: "whatsapp_business_account",
      entry: [{ id: "102290129340398", changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata: METADATA, statuses: [{ id: "wamid.GROUPMSG", status, timestamp: String(at), recipient_id: GROUP, recipient_type: "group", ...(participant ? { recipient_participant_id: participant } : {}) }] } }] }],
    });
  const members = ["16505590001", "16505590002", "16505590003"];
  const bodies = [status("sent", 1751600000), ...members.map((m, i) => status("delivered", 1751600010 + i, m)), status("read", 1751600020, members[0]), status("read", 1751600021, members[1])];
  await pg.postMany(bodies);
  lite.postMany(bodies);
  while ((await pg.processor.runOnce()).jobs > 0);
  while ((await lite.processor.runOnce()).jobs > 0);
  const liteOps = adminOps(lite.db, null, []);
  const erased = { pg: await pgAdmin(sql)({ op: "erase-contact", waId: members[1]! }), lite: await liteOps({ op: "erase-contact", waId: members[1]! }, lite.clock.now()) };
  expect(erased.pg.status).toBe(200);
  const counts = (a: { body: unknown }) => (a.body as { erased: Record<string, number> }).erased;
  expect(counts(erased.pg)).toEqual(counts(erased.lite));
  expect(counts(erased.lite)).toMatchObject({ events: 2, statuses: 2, messages: 0, webhooks_deleted: 2 });
  for (const count of [(q: string) => pg.count(q), async (q: string) => lite.count(q)]) {
    expect(await count("SELECT count(*) n FROM events WHERE wamid = 'wamid.GROUPMSG'")).toBe(4); // the group's sent, 0001 delivered + read, 0003 delivered
    expect(await count("SELECT count(*) n FROM message_statuses WHERE wamid = 'wamid.GROUPMSG'")).toBe(4);
    expect(await count("SELECT count(*) n FROM outbound_messages WHERE wamid = 'wamid.GROUPMSG'")).toBe(1);
    expect(await count("SELECT count(*) n FROM inbox")).toBe(4);
    expect(await count(`SELECT count(*) n FROM events WHERE wa_id = '${members[1]}'`)).toBe(0);
  }
  expect((await liteOps({ op: "message", wamid: "wamid.GROUPMSG" }, lite.clock.now())).status).toBe(200);
});
