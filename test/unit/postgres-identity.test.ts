/**
 * A person's identities on PostgreSQL against a real server, beside SQLite: changes
 * delivered newest first, duplicated, one job at a time or all in one batch, give the same
 * identities rows and the same answers on both engines; a lookup by any id finds the
 * person (GET /v1/contacts, GET /v1/events?from=); erasing by either end erases them all.
 */
import { expect, test } from "bun:test";
import type { SQL } from "bun";
import { adminOps } from "../../src/admin/ops";
import { EventsQuery } from "../../src/admin/params";
import { postgresAdminOps } from "../../src/admin/postgres-ops";
import { changeEntry, expectedIdentity, phoneOf, textFrom, userIdOf, type IdChange } from "../support/identity-changes";
import { pipeline } from "../support/pipeline";
import { mentionsOfAny } from "../../src/whatsapp/phone-mention";
import { migratedDatabase } from "../support/postgres";
import { postgresPipeline } from "../support/postgres-pipeline";

const noHooks = async () => [] as string[];
const pgAdmin = (sql: SQL) => postgresAdminOps(sql, () => null, () => [], noHooks, () => null);

/** Three number changes and two user id changes; the oldest number change arrives last and twice. */
const CHANGES: IdChange[] = [
  { kind: "number", time: 1_760_000_300, step: 2 },
  { kind: "user_id", time: 1_760_000_250, step: 1 },
  { kind: "number", time: 1_760_000_200, step: 1 },
  { kind: "user_id", time: 1_760_000_150, step: 0 },
  { kind: "number", time: 1_760_000_100, step: 0 },
  { kind: "number", time: 1_760_000_100, step: 0 },
];
const BODIES = [
  ...CHANGES.map((c) => ({ object: "whatsapp_business_account", entry: [changeEntry(c)] })),
  ...[0, 1, 2, 3].map((i) => textFrom(phoneOf(i), i)),
];
const EXPECTED = expectedIdentity(CHANGES);
const IDENTITIES = "SELECT id, person, kind, current_at FROM identities ORDER BY id";

async function bothEngines(oneBatch: boolean) {
  const lite = pipeline();
  for (const b of BODIES) lite.post(b);
  while ((await lite.processor.runOnce(oneBatch ? 10_000 : 1)).jobs > 0);
  const { sql } = await migratedDatabase();
  const pg = await postgresPipeline(sql, [], oneBatch ? { batchSize: 10_000 } : {});
  for (const b of BODIES) await pg.post(b);
  while ((await pg.processor.runOnce(oneBatch ? 10_000 : 1)).jobs > 0);
  const liteOps = adminOps(lite.db, null, []);
  const both = async (op: Parameters<typeof liteOps>[0]) => ({ pg: await pgAdmin(sql)(op), lite: await liteOps(op, lite.clock.now()) });
  return { lite, pg, sql, both };
}

for (const oneBatch of [false, true]) {
  test(`changes out of order and duplicated (${oneBatch ? "one batch" : "one job at a time"}): the same identities on both engines, the newest change's ids current`, async () => {
    const { lite, sql, both } = await bothEngines(oneBatch);
    const pgRows = [...(await sql.unsafe(`${IDENTITIES.replace("current_at FROM", "current_at::float8 AS current_at FROM")} COLLATE "C"`))];
    expect(pgRows).toEqual(lite.db.query(IDENTITIES).all() as never);
    expect(EXPECTED).toMatchObject({ wa_id: phoneOf(3), user_id: userIdOf(2) });
    for (const id of EXPECTED.ids) {
      const answer = await both({ op: "contact", waId: id });
      expect(answer.pg.status).toBe(200);
      expect((answer.pg.body as { identity: unknown }).identity).toEqual({ wa_id: EXPECTED.wa_id, user_id: EXPECTED.user_id, parent_user_id: null, ids: EXPECTED.ids });
      // Messages stored in one batch share a time: which of equal times comes first is either engine's to pick.
      const { recent_messages: pgRecent, ...pgRest } = answer.pg.body as { recent_messages: { wamid: string }[] };
      const { recent_messages: liteRecent, ...liteRest } = answer.lite.body as { recent_messages: { wamid: string }[] };
      expect(pgRest).toEqual(liteRest);
      expect(pgRecent.map((m) => m.wamid).sort()).toEqual(liteRecent.map((m) => m.wamid).sort());
    }
    for (let i = 0; i <= 3; i++) {
      const page = await both({ op: "events", query: EventsQuery.parse({ from: phoneOf(i), type: "message.received" }) });
      const wamids = (a: { body: unknown }) => (a.body as { data: { data: { wamid: string } }[] }).data.map((e) => e.data.wamid).sort();
      // Every text and system message of every number they had.
      expect(wamids(page.pg)).toEqual(["wamid.NUMBER0", "wamid.NUMBER1", "wamid.NUMBER2", "wamid.TEXT0", "wamid.TEXT1", "wamid.TEXT2", "wamid.TEXT3"]);
      expect(wamids(page.pg)).toEqual(wamids(page.lite));
    }
    // Pages of two, one index range per id merged: newest first, none skipped or repeated, the same on both engines.
    const pages = { pg: [] as string[], lite: [] as string[] };
    for (const engine of ["pg", "lite"] as const) {
      let cursor: string | undefined;
      do {
        const page = (await both({ op: "events", query: EventsQuery.parse({ from: phoneOf(1), limit: "2", ...(cursor ? { cursor } : {}) }) }))[engine];
        const body = page.body as { data: { id: string }[]; next_cursor: string | null };
        pages[engine].push(...body.data.map((e) => e.id));
        cursor = body.next_cursor ?? undefined;
      } while (cursor);
    }
    expect(pages.pg.length).toBe(pages.lite.length);
    expect(pages.pg).toEqual([...pages.pg].sort().reverse());
    expect(new Set(pages.pg).size).toBe(pages.pg.length);
    expect(pages.pg.length).toBeGreaterThan(7); // the messages, and the user id changes' events (their wa_id is the first number)
  });
}

for (const by of [phoneOf(0), userIdOf(2)]) {
  test(`erasing by ${by === phoneOf(0) ? "the first number" : "the current user id"} erases every id on both engines, and the link between them`, async () => {
    const { lite, pg, both } = await bothEngines(false);
    const erased = await both({ op: "erase-contact", waId: by });
    expect(erased.pg.status).toBe(200);
    const { storage: _p, ...pgErased } = erased.pg.body as Record<string, unknown>;
    const { storage: _l, ...liteErased } = erased.lite.body as Record<string, unknown>;
    expect(pgErased).toEqual(liteErased);
    for (const table of ["identities", "contacts", "events", "inbound_messages", "state_values", "state_history"]) {
      expect([table, await pg.count(`SELECT count(*) n FROM ${table}`)]).toEqual([table, 0]);
      expect([table, lite.count(`SELECT count(*) n FROM ${table}`)]).toEqual([table, 0]);
    }
    // A duplicate delivery made no event of its own: its body is rewritten without them, on both engines.
    const mentions = mentionsOfAny(EXPECTED.ids);
    const pgBodies = (await pg.sql`SELECT body FROM inbox_bodies`).map((r: { body: Uint8Array }) => new TextDecoder().decode(r.body));
    const liteBodies = (lite.db.query("SELECT body FROM inbox_bodies").all() as { body: Uint8Array }[]).map((r) => new TextDecoder().decode(r.body));
    expect(pgBodies.length).toBe(liteBodies.length);
    expect([...pgBodies, ...liteBodies].filter(mentions)).toEqual([]);
    for (const id of EXPECTED.ids) expect((await both({ op: "contact", waId: id })).pg.status).toBe(404);
  });
}
