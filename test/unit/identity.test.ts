/**
 * A person's identities (issue 22): ids changed several times, the changes delivered in
 * any order, duplicated and re-batched, end as Meta's clock says — the current number
 * and user id are those of the newest changes, and every id the person ever had finds
 * them (GET /v1/contacts, GET /v1/events?from=) — on the pure decision and on a real
 * SQLite file. Lookups and erasure by either id on both engines: postgres-identity.test.ts.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { adminOps } from "../../src/admin/ops";
import { identityOf, linkIdentities, type IdentityLink, type IdentityRow } from "../../src/domain/identity";
import { mergeContacts } from "../../src/domain/person-contact";
import { EventsQuery } from "../../src/admin/params";
import { changeEntry, expectedIdentity, phoneOf, textFrom, type IdChange } from "../support/identity-changes";
import { pipeline } from "../support/pipeline";
import { normalizePayload } from "../../src/whatsapp/normalize";
import { bothEngines } from "../support/both-engines";

/** Chains of 1–4 number changes and 0–3 user id changes at distinct times; each delivered 1–3 times, in any order, in POSTs of 1–3 entries. */
const scenario = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 3 }))
  .chain(([numbers, users]) =>
    fc.tuple(
      fc.uniqueArray(fc.integer({ min: 1_700_000_000, max: 1_800_000_000 }), { minLength: numbers + users, maxLength: numbers + users }),
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: numbers + users, maxLength: numbers + users }),
      fc.infiniteStream(fc.integer({ min: 1, max: 3 })),
      fc.constant(numbers),
    ),
  )
  .chain(([times, copies, sizes, numbers]) => {
    const changes: IdChange[] = times.map((time, i) => (i < numbers ? { kind: "number", time, step: i } : { kind: "user_id", time, step: i - numbers }));
    const arrivals = changes.flatMap((c, i) => Array.from({ length: copies[i]! }, () => c));
    return fc.tuple(fc.constant(changes), fc.shuffledSubarray(arrivals, { minLength: arrivals.length, maxLength: arrivals.length }), fc.constant(sizes));
  });

const link = (a: string, b: string, at: number | null): IdentityLink => ({ ids: [{ id: a, kind: "wa_id", current: false }, { id: b, kind: "wa_id", current: true }], at });

/** Applies links batch by batch, each batch seeing the rows the ones before stored (as the engines do). */
function applyInBatches(batches: IdentityLink[][]): IdentityRow[] {
  const stored = new Map<string, IdentityRow>();
  for (const batch of batches) {
    const ids = new Set(batch.flatMap((l) => l.ids.map((n) => n.id)));
    const persons = new Set([...stored.values()].filter((r) => ids.has(r.id)).map((r) => r.person));
    for (const row of linkIdentities([...stored.values()].filter((r) => persons.has(r.person)), batch)) stored.set(row.id, row);
  }
  return [...stored.values()];
}

describe("identity (pure)", () => {
  test("links in any order and batching give the same rows: one person keyed by its smallest id, the current id the newest change's", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 1, maxLength: 6 }),
        fc.infiniteStream(fc.integer({ min: 1, max: 3 })),
        fc.boolean(),
        (times, sizes, shuffle) => {
          const links = times.map((t, i) => link(phoneOf(i), phoneOf(i + 1), t));
          const order = shuffle ? [...links].reverse() : links;
          const batches: IdentityLink[][] = [];
          const it = sizes[Symbol.iterator]();
          for (let i = 0; i < order.length; ) {
            const n = it.next().value as number;
            batches.push(order.slice(i, i + n));
            i += n;
          }
          const rows = applyInBatches(batches);
          const all = applyInBatches([links]);
          const byId = (r: IdentityRow[]) => [...r].sort((a, b) => (a.id < b.id ? -1 : 1));
          expect(byId(rows)).toEqual(byId(all));
          expect(new Set(rows.map((r) => r.person))).toEqual(new Set([phoneOf(0)]));
          const newest = times.indexOf(Math.max(...times));
          expect(identityOf(phoneOf(0), rows).wa_id).toBe(phoneOf(newest + 1));
        },
      ),
    );
  });

  test("a late, older change back to an old number does not undo the newer one; an unknown time never beats a known one", () => {
    const newer = linkIdentities([], [link("111", "222", 2000)]);
    const late = linkIdentities(newer, [link("222", "111", 1000)]);
    const rows = [...new Map([...newer, ...late].map((r) => [r.id, r])).values()];
    expect(identityOf("111", rows)).toEqual({ wa_id: "222", user_id: null, parent_user_id: null, ids: ["111", "222"] });
    const unknown = linkIdentities(rows, [link("222", "333", null)]);
    const all = [...new Map([...rows, ...unknown].map((r) => [r.id, r])).values()];
    expect(identityOf("333", all).wa_id).toBe("222");
  });

  test("a person never linked is shown by the id asked for, as the kind its form says", () => {
    expect(identityOf("16505551234", [])).toEqual({ wa_id: "16505551234", user_id: null, parent_user_id: null, ids: ["16505551234"] });
    expect(identityOf("US.99887766554433221100", [])).toEqual({ wa_id: null, user_id: "US.99887766554433221100", parent_user_id: null, ids: ["US.99887766554433221100"] });
    expect(identityOf("user.9373795779eb4a2c", []).user_id).toBe("user.9373795779eb4a2c");
    expect(identityOf("US.ENT.11815799212886844830", []).parent_user_id).toBe("US.ENT.11815799212886844830");
  });

  test("two persons joined by a change become one, keyed by the smallest id of both; only rows that change are written", () => {
    const a = linkIdentities([], [link("500", "600", 1)]);
    const b = linkIdentities([], [link("100", "200", 2)]);
    const joined = linkIdentities([...a, ...b], [link("600", "200", 3)]);
    expect(new Set(joined.map((r) => r.person))).toEqual(new Set(["100"]));
    expect(joined.map((r) => r.id)).toEqual(["200", "500", "600"]); // 100 keeps its key; 200 became current
  });

  test("the person's contact: profile name and opt-out by the newest notice under any id, last seen the latest", () => {
    const rows = [
      { wa_id: "111", profile_name: "Old", last_seen_at: 5, marketing_opt_out: 1, updated_at: 1 },
      { wa_id: "222", profile_name: "New", last_seen_at: 9, marketing_opt_out: 0, updated_at: 2 },
    ];
    const clocks = [
      { id: "111", attribute: "marketing_opt_out" as const, at: 50 },
      { id: "111", attribute: "profile_name" as const, at: 10 },
      { id: "222", attribute: "profile_name" as const, at: 20 },
    ];
    expect(mergeContacts("222", rows, clocks)).toEqual({ wa_id: "222", profile_name: "New", last_seen_at: 9, marketing_opt_out: 1, updated_at: 2 });
    expect(mergeContacts("222", [], clocks)).toBeNull();
  });
});

describe("identity on a real SQLite file (property-based)", () => {
  test("changes in any order, duplicated and re-batched: every id finds the person, whose current ids are the newest changes'", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ([changes, arrivals, sizes]) => {
        const p = pipeline();
        const it = sizes[Symbol.iterator]();
        for (let i = 0; i < arrivals.length; ) {
          const n = it.next().value as number;
          p.post({ object: "whatsapp_business_account", entry: arrivals.slice(i, i + n).map(changeEntry) });
          i += n;
        }
        const expected = expectedIdentity(changes);
        const phones = expected.ids.filter((id) => /^[0-9]+$/.test(id));
        phones.forEach((phone, n) => p.post(textFrom(phone, n)));
        while ((await p.processor.runOnce()).jobs > 0);

        const ops = adminOps(p.db, null, []);
        expect(p.count("SELECT count(DISTINCT person) n FROM identities")).toBe(1);
        for (const id of expected.ids) {
          const answer = await ops({ op: "contact", waId: id }, p.clock.now());
          expect(answer.status).toBe(200);
          expect((answer.body as { identity: unknown }).identity).toEqual({ wa_id: expected.wa_id, user_id: expected.user_id, parent_user_id: null, ids: expected.ids });
        }
        // Each number's text message, asked for by any of the person's numbers.
        for (const phone of phones) {
          const page = await ops({ op: "events", query: EventsQuery.parse({ from: phone, type: "message.received" }) }, p.clock.now());
          const texts = (page.body as { data: { data: { kind: string } }[] }).data.filter((e) => e.data.kind === "text");
          expect(texts).toHaveLength(phones.length);
        }
      }),
      { numRuns: 40 },
    );
  });

  test("erasing by an old number erases every id the person had, and the link between them", async () => {
    const p = pipeline();
    const changes: IdChange[] = [
      { kind: "number", time: 1_760_000_000, step: 0 },
      { kind: "user_id", time: 1_760_000_100, step: 0 },
    ];
    p.post({ object: "whatsapp_business_account", entry: changes.map(changeEntry) });
    p.post(textFrom(phoneOf(0), 0));
    p.post(textFrom(phoneOf(1), 1));
    while ((await p.processor.runOnce()).jobs > 0);
    const ops = adminOps(p.db, null, []);
    const byNew = await ops({ op: "contact", waId: `+${phoneOf(1)}` }, p.clock.now());
    expect((byNew.body as { recent_messages: unknown[] }).recent_messages).toHaveLength(3); // two texts and the system message

    const erased = await ops({ op: "erase-contact", waId: phoneOf(0) }, p.clock.now());
    expect(erased.status).toBe(200);
    expect(p.count("SELECT count(*) n FROM identities")).toBe(0);
    expect(p.count("SELECT count(*) n FROM contacts")).toBe(0);
    expect(p.count("SELECT count(*) n FROM events")).toBe(0);
    for (const id of [phoneOf(0), phoneOf(1), "US.13491208655302741000", "US.13491208655302741001"]) {
      expect((await ops({ op: "contact", waId: id }, p.clock.now())).status).toBe(404);
    }
  });
});

test("the older number-change shapes link numbers too: customer_changed_number, and the new number under new_wa_id (before v12)", () => {
  const post = (system: object) => ({
    object: "whatsapp_business_account",
    entry: [{ id: "102290129340398", changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata: { phone_number_id: "1" }, messages: [{ from: "16505551234", id: `wamid.SYS${JSON.stringify(system).length}`, timestamp: "1749416383", type: "system", system }] } }] }],
  });
  const linked = (system: object) => normalizePayload(post(system)).flatMap((e) => e.effects).filter((x) => x.kind === "identity").map((x) => (x as { link: IdentityLink }).link.ids.map((n) => `${n.id}${n.current ? "*" : ""}`));
  expect(linked({ body: "User A changed from 16505551234 to 12195550000", wa_id: "12195550000", type: "customer_changed_number" })).toEqual([["16505551234", "12195550000*"]]);
  expect(linked({ body: "User A changed from 16505551234 to 12195550000", new_wa_id: "12195550000", type: "user_changed_number" })).toEqual([["16505551234", "12195550000*"]]);
  expect(linked({ body: "changed", type: "user_changed_number" })).toEqual([]); // no new number: nothing to link
});

test("a username user's id and its parent id, seen together on a message or a status, are one person on both engines: either finds them, the contact shows both", async () => {
  const e = await bothEngines(Date.now() - 60_000);
  const at = String(Math.floor(Date.now() / 1000) - 30);
  const USER = "US.13491208655302741918";
  const PARENT = "US.ENT.11815799212886844830";
  const RECIPIENT = "US.13491208655302749999";
  const RECIPIENT_PARENT = "US.ENT.11815799212886849999";
  const value = (extra: object) => ({ object: "whatsapp_business_account", entry: [{ id: "102290129340398", changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata: { display_phone_number: "15550783881", phone_number_id: "106540352242922" }, ...extra } }] }] });
  await e.both.post([
    value({
      contacts: [{ profile: { name: "Kerry", username: "kerry" }, user_id: USER, parent_user_id: PARENT }],
      messages: [{ from_user_id: USER, from_parent_user_id: PARENT, id: "wamid.USERNAME1", timestamp: at, type: "text", text: { body: "hi" } }],
    }),
    value({ statuses: [{ id: "wamid.TOUSERNAME", status: "delivered", timestamp: at, recipient_user_id: RECIPIENT, recipient_parent_user_id: RECIPIENT_PARENT }] }),
  ]);
  for (const [id, user, parent] of [[USER, USER, PARENT], [PARENT, USER, PARENT], [RECIPIENT_PARENT, RECIPIENT, RECIPIENT_PARENT]] as const) {
    const answer = await e.ask({ op: "contact", waId: id });
    expect(answer.lite.status).toBe(200);
    expect((answer.lite.body as { identity: unknown }).identity).toEqual({ wa_id: null, user_id: user, parent_user_id: parent, ids: [parent, user].sort() });
    expect((answer.pg.body as { identity: unknown }).identity).toEqual((answer.lite.body as { identity: unknown }).identity);
  }
});
