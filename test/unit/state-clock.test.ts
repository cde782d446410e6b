/**
 * State follows Meta's clock, not arrival order, and every distinct notice is one
 * event — whatever the order, duplication and batching (property-based, real SQLite).
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { pipeline } from "../support/pipeline";

const WABA = "102290129340398";
const TEMPLATE_ID = 1689556908129832;

interface Notice {
  time: number; // entry.time / item timestamp, unix seconds; distinct per notice
  value: string;
}

const templateEntry = (n: Notice) => ({
  id: WABA,
  time: n.time,
  changes: [{ field: "message_template_status_update", value: { event: n.value, message_template_id: TEMPLATE_ID, message_template_name: "otp", message_template_language: "en_US", reason: null } }],
});
const optOutEntry = (n: Notice) => ({
  id: WABA,
  time: n.time,
  changes: [{ field: "user_preferences", value: { messaging_product: "whatsapp", metadata: { display_phone_number: "15550783881", phone_number_id: "106540352242922" }, user_preferences: [{ wa_id: "16505551234", category: "marketing_messages", value: n.value, detail: "", timestamp: n.time }] } }],
});

/** Distinct notices, then how they arrive: each 1–3 times, any order, in POSTs of 1–3 entries. */
const scenario = (values: string[]) =>
  fc
    .uniqueArray(fc.integer({ min: 1_700_000_000, max: 1_800_000_000 }), { minLength: 1, maxLength: 8 })
    .chain((times) =>
      fc.tuple(
        fc.constant(times),
        fc.array(fc.constantFrom(...values), { minLength: times.length, maxLength: times.length }),
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: times.length, maxLength: times.length }),
        fc.infiniteStream(fc.integer({ min: 1, max: 3 })),
      ),
    )
    .chain(([times, vals, copies, sizes]) => {
      const notices: Notice[] = times.map((time, i) => ({ time, value: vals[i]! }));
      const arrivals = notices.flatMap((n, i) => Array.from({ length: copies[i]! }, () => n));
      return fc.tuple(fc.constant(notices), fc.shuffledSubarray(arrivals, { minLength: arrivals.length, maxLength: arrivals.length }), fc.constant(sizes));
    });

async function deliver(arrivals: Notice[], sizes: Iterator<number>, entryOf: (n: Notice) => object) {
  const p = pipeline();
  for (let i = 0; i < arrivals.length; ) {
    const size = sizes.next().value as number;
    p.post({ object: "whatsapp_business_account", entry: arrivals.slice(i, i + size).map(entryOf) });
    i += size;
  }
  while ((await p.processor.runOnce()).jobs > 0);
  return p;
}

const latest = (notices: Notice[]) => notices.reduce((a, b) => (b.time > a.time ? b : a));

describe("state by Meta's clock (property-based)", () => {
  test("template status: one event per distinct notice; the final status is the newest notice's, in any arrival order", async () => {
    await fc.assert(
      fc.asyncProperty(scenario(["APPROVED", "PAUSED", "DISABLED", "FLAGGED"]), async ([notices, arrivals, sizes]) => {
        const p = await deliver(arrivals, sizes[Symbol.iterator](), templateEntry);
        expect(p.count("SELECT count(*) n FROM events")).toBe(notices.length);
        expect(p.count("SELECT count(*) n FROM state_history")).toBe(notices.length);
        expect(p.db.query("SELECT status FROM templates").get()).toEqual({ status: latest(notices).value });
        // Every event says whether it changed the state; the newest notice's always did.
        const flags = p.db.query("SELECT json_extract(envelope, '$.data.state_changed') c, json_extract(envelope, '$.data.event') v, occurred_at t FROM events").all() as { c: number; t: number }[];
        expect(flags.find((f) => f.t === latest(notices).time * 1000)!.c).toBe(1);
      }),
      { numRuns: 60 },
    );
  });

  test("marketing opt-out: a stale 'resume' never un-stops a person who said stop later", async () => {
    await fc.assert(
      fc.asyncProperty(scenario(["stop", "resume"]), async ([notices, arrivals, sizes]) => {
        const p = await deliver(arrivals, sizes[Symbol.iterator](), optOutEntry);
        expect(p.count("SELECT count(*) n FROM events")).toBe(notices.length);
        expect(p.db.query("SELECT marketing_opt_out FROM contacts WHERE wa_id = '16505551234'").get()).toEqual({ marketing_opt_out: latest(notices).value === "stop" ? 1 : 0 });
      }),
      { numRuns: 60 },
    );
  });
});

describe("state by Meta's clock (examples)", () => {
  test("a PAUSED retried days late after APPROVED does not pause the template again, and is flagged", async () => {
    const p = await deliver(
      [
        { time: 1751000000, value: "PAUSED" },
        { time: 1751003600, value: "APPROVED" },
        { time: 1751000000, value: "PAUSED" }, // Meta's retry of the first: a duplicate, no event
      ],
      [1, 1, 1][Symbol.iterator](),
      templateEntry,
    );
    expect(p.db.query("SELECT status FROM templates").get()).toEqual({ status: "APPROVED" });
    expect(p.count("SELECT count(*) n FROM events")).toBe(2);
    const late = await deliver([{ time: 1751003600, value: "APPROVED" }, { time: 1751000000, value: "PAUSED" }], [1, 1][Symbol.iterator](), templateEntry);
    expect(late.db.query("SELECT status FROM templates").get()).toEqual({ status: "APPROVED" });
    const stale = late.db.query("SELECT json_extract(envelope, '$.data.state_changed') c FROM events ORDER BY rowid").all();
    expect(stale).toEqual([{ c: 1 }, { c: 0 }]);
    expect(late.db.query("SELECT value, applied FROM state_history ORDER BY event_id").all()).toEqual([
      { value: "APPROVED", applied: 1 },
      { value: "PAUSED", applied: 0 },
    ]);
  });

  test("a profile name from an older message does not overwrite a newer one", async () => {
    const p = pipeline();
    const msg = (id: string, ts: string, name: string) => ({
      object: "whatsapp_business_account",
      entry: [{ id: WABA, changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata: { display_phone_number: "1", phone_number_id: "2" }, contacts: [{ wa_id: "16505551234", profile: { name } }], messages: [{ from: "16505551234", id, timestamp: ts, type: "text", text: { body: "x" } }] } }] }],
    });
    p.post(msg("wamid.NEW", "1751003600", "Sheena N."));
    p.post(msg("wamid.OLD", "1751000000", "Sheena"));
    await p.processor.runOnce();
    expect(p.db.query("SELECT profile_name FROM contacts").get()).toEqual({ profile_name: "Sheena N." });
  });
});
