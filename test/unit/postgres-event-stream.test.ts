/**
 * The live stream's reads on the PostgreSQL engine (store/postgres/event-stream.ts)
 * against a real server: transactions that commit out of id order (the one with the
 * smaller id committing last) are streamed, never skipped, where "id > the last one
 * sent" would skip them; many writers committing in random order while a reader follows
 * give every event once, in (transaction, id) order; filters, sizes, a start from now
 * and resuming after an event (stored, deleted, unknown) answer as SQLite's query does;
 * the stream hub's window, fed by this engine, gives what the database gives.
 */
import { expect, test } from "bun:test";
import type { SQL } from "bun";
import type { EventFilter } from "../../src/store/event-query";
import { postgresEventStream, settleStreamOrder } from "../../src/store/postgres/event-stream";
import { cursorEventId, parsePgCursor, pgCursor } from "../../src/domain/stream-cursor";
import { StreamHub } from "../../src/http/stream-hub";
import { migratedDatabase } from "../support/postgres";

const none: EventFilter = { types: null, phoneNumberId: null, wamid: null, waId: null, since: null, until: null };

/** An event id that sorts as `n` does (26 Crockford characters). */
const evt = (n: number) => `evt_${String(n).padStart(26, "0")}`;

const insert = (tx: SQL, n: number, extra: { type?: string; wamid?: string; envelope?: string } = {}) =>
  tx`INSERT INTO events (id, type, received_at, dedup_key, wamid, envelope)
     VALUES (${evt(n)}, ${extra.type ?? "message.received"}, ${1_750_000_000_000 + n}, ${`k${n}`}, ${extra.wamid ?? null}, ${extra.envelope ?? JSON.stringify({ id: evt(n) })})`;

/** A transaction held open until `commit()`: its inserts are done once `ready` resolves. */
function openTransaction(sql: SQL, work: (tx: SQL) => Promise<unknown>) {
  let commit = () => {};
  const gate = new Promise<void>((r) => (commit = r));
  let ready = () => {};
  const started = new Promise<void>((r) => (ready = r));
  const done = sql.begin(async (tx) => {
    await work(tx);
    ready();
    await gate;
  });
  return { ready: started, commit: async () => (commit(), await done) };
}

/**
 * Reads until the stream has nothing more for now; the ids read and the cursor reached.
 * What "now" holds depends on every transaction on the server (other tests' too: the
 * horizon is the server's), so a test that expects events waits for them with `until`.
 */
async function drain(stream: ReturnType<typeof postgresEventStream>, after: string, filter = none, limit = 200, maxBytes = Infinity) {
  const ids: string[] = [];
  for (;;) {
    const batch = await stream.after(filter, after, limit, maxBytes);
    ids.push(...batch.events.map((e) => e.id));
    after = batch.last!;
    if (!batch.more) return { ids, after };
  }
}

/** `drain` again (from where it got) until `n` events came; the ids in order and the cursor. */
async function until(stream: ReturnType<typeof postgresEventStream>, after: string, n: number, filter = none) {
  const ids: string[] = [];
  const deadline = Date.now() + 20_000;
  while (ids.length < n) {
    if (Date.now() > deadline) throw new Error(`only ${ids.length} of ${n} events came: ${ids.join(", ")}`);
    const read = await drain(stream, after, filter);
    ids.push(...read.ids);
    after = read.after;
    if (ids.length < n) await Bun.sleep(20);
  }
  return { ids, after };
}

test("an event whose transaction commits after a later-id event's is streamed after it, not skipped", async () => {
  const { sql } = await migratedDatabase(4);
  const stream = postgresEventStream(sql);
  const start = (await stream.after(none, null, 200, Infinity)).last!;

  // The transaction that will store the larger id starts first (the smaller transaction id)…
  const early = openTransaction(sql, async (tx) => {
    await tx`SELECT pg_current_xact_id()`;
    await insert(tx, 2);
  });
  await early.ready;
  // …and the one storing the smaller id starts second, and is the last to commit.
  const late = openTransaction(sql, (tx) => insert(tx, 1));
  await late.ready;
  await early.commit();
  const first = await until(stream, start, 1);
  expect(first.ids).toEqual([evt(2)]);
  // "id > the last id sent" would never send evt 1 now; the cursor does.
  expect(evt(1) > evt(2)).toBe(false);
  await late.commit();
  const second = await until(stream, first.after, 1);
  expect(second.ids).toEqual([evt(1)]);
  expect(await drain(stream, second.after)).toEqual({ ids: [], after: second.after });
});

test("an event committed while an older transaction still runs waits for it: the stream holds back, never jumps ahead", async () => {
  const { sql } = await migratedDatabase(4);
  const stream = postgresEventStream(sql);
  const start = (await stream.after(none, null, 200, Infinity)).last!;
  const older = openTransaction(sql, (tx) => insert(tx, 10));
  await older.ready;
  await sql.begin((tx) => insert(tx, 11));
  // evt 11 is committed, but a transaction older than its own may still store events before it.
  expect((await drain(stream, start)).ids).toEqual([]);
  await older.commit();
  expect((await until(stream, start, 2)).ids).toEqual([evt(10), evt(11)]);
});

test("writers committing in random order while a reader follows: every event once, in (transaction, id) order", async () => {
  const { sql } = await migratedDatabase(8);
  const stream = postgresEventStream(sql);
  let cursor = (await stream.after(none, null, 200, Infinity)).last!;
  const seen: string[] = [];
  let writing = true;
  const reader = (async () => {
    while (writing) {
      const read = await drain(stream, cursor, none, 7);
      seen.push(...read.ids);
      cursor = read.after;
      await Bun.sleep(Math.random() * 5);
    }
  })();
  let next = 0;
  const writer = async () => {
    for (let t = 0; t < 25; t++) {
      const ids = Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => ++next);
      await sql.begin(async (tx) => {
        for (const n of ids) {
          await insert(tx, n);
          await Bun.sleep(Math.random() * 4); // commits land out of id order across writers
        }
      });
    }
  };
  await Promise.all([writer(), writer(), writer(), writer()]);
  writing = false;
  await reader;
  seen.push(...(await until(stream, cursor, next - seen.length)).ids);
  const stored = [...(await sql`SELECT id FROM events ORDER BY tx, id COLLATE "C"`)].map((r: { id: string }) => r.id);
  expect(stored).toHaveLength(next);
  expect(seen).toEqual(stored);
  expect(new Set(seen).size).toBe(next);
});

test("filters, sizes and `more` as SQLite's query: at least one event, as many as fit, the cursor past the last one sent", async () => {
  const { sql } = await migratedDatabase();
  const stream = postgresEventStream(sql);
  const start = (await stream.after(none, null, 200, Infinity)).last!;
  await sql.begin(async (tx) => {
    for (let n = 1; n <= 6; n++) await insert(tx, n, { type: n % 2 ? "message.received" : "message.status", wamid: `wamid.${n % 3}`, envelope: JSON.stringify({ n, pad: "x".repeat(90) }) });
  });
  await until(stream, start, 6); // below the horizon from now on
  const statuses = await drain(stream, start, { ...none, types: ["message.status"] });
  expect(statuses.ids).toEqual([evt(2), evt(4), evt(6)]);
  expect(cursorEventId(statuses.after)).toBe(evt(6));
  expect((await drain(stream, start, { ...none, wamid: "wamid.1" })).ids).toEqual([evt(1), evt(4)]);
  // 100-byte envelopes, 250 bytes at a time: two per batch; a batch too small for one still has one.
  const sized = await stream.after(none, start, 200, 250);
  expect({ ids: sized.events.map((e) => e.id), more: sized.more }).toEqual({ ids: [evt(1), evt(2)], more: true });
  expect((await stream.after(none, start, 200, 10)).events.map((e) => e.id)).toEqual([evt(1)]);
  const limited = await stream.after(none, start, 3, Infinity);
  expect({ n: limited.events.length, more: limited.more }).toEqual({ n: 3, more: true });
  const row = sized.events[0]!;
  expect(row).toMatchObject({ id: evt(1), type: "message.received", received_at: 1_750_000_000_001, wamid: "wamid.1", wa_id: null, phone_number_id: null });
  expect(parsePgCursor(row.cursor!)!.id).toBe(evt(1));
});

test("a person's stream follows every id they have had (the filter's `person`), and only theirs", async () => {
  const { sql } = await migratedDatabase();
  const stream = postgresEventStream(sql);
  const start = (await stream.after(none, null, 200, Infinity)).last!;
  await sql.begin(async (tx) => {
    for (const [n, waId] of [[1, "14155550301"], [2, "14155550399"], [3, "14155550302"], [4, "US.1"]] as const) {
      await insert(tx, n);
      await tx`UPDATE events SET wa_id = ${waId} WHERE id = ${evt(n)}`;
    }
  });
  await until(stream, start, 4);
  const person = { ...none, waId: "14155550301", person: ["14155550301", "14155550302", "US.1"] };
  expect((await drain(stream, start, person)).ids).toEqual([evt(1), evt(3), evt(4)]);
  expect((await drain(stream, start, { ...none, waId: "14155550301" })).ids).toEqual([evt(1)]);
});

test("a stream started now gets everything committed from then on; resuming after an event gives what followed it, whether it is still stored or not", async () => {
  const { sql } = await migratedDatabase();
  const stream = postgresEventStream(sql);
  await sql.begin((tx) => insert(tx, 1));
  const start = (await stream.after(none, null, 200, Infinity)).last!;
  expect(cursorEventId(start)).toBeNull();
  await sql.begin(async (tx) => (await insert(tx, 2), await insert(tx, 3)));
  await sql.begin((tx) => insert(tx, 4));
  // Everything stored from then on, in order; an event committed just before may come too, when
  // a transaction older than its own was still running on the server (it was not final yet).
  let fromStart: string[] = [];
  for (let after = start; !fromStart.includes(evt(4)); ) {
    const read = await until(stream, after, 1);
    fromStart = [...fromStart, ...read.ids];
    after = read.after;
  }
  expect(fromStart.filter((id) => id !== evt(1))).toEqual([evt(2), evt(3), evt(4)]);
  expect(fromStart.length - 3).toBeLessThanOrEqual(1);
  // Resuming exactly after a stored event (the cursor is its transaction and id).
  expect((await drain(stream, await stream.resume(evt(2)))).ids).toEqual([evt(3), evt(4)]);
  expect(cursorEventId(await stream.resume(evt(2)))).toBe(evt(2));
  // An event deleted since (retention, erasure): from the first transaction that stored a later id.
  await sql`DELETE FROM events WHERE id = ${evt(2)}`;
  expect((await drain(stream, await stream.resume(evt(2)))).ids).toEqual([evt(3), evt(4)]);
  // An id after everything stored: from the horizon on, so what commits next still comes.
  const beyond = await stream.resume(evt(99));
  await sql.begin((tx) => insert(tx, 5));
  expect((await until(stream, beyond, 1)).ids).toEqual([evt(5)]);
});

test("a dump restored into another cluster (transaction ids ahead of its counter): put back in order at start, a resumed stream gets what is new", async () => {
  const { sql } = await migratedDatabase(4);
  const stream = postgresEventStream(sql);
  // As pg_restore leaves them: the source cluster's transaction ids, far past this one's counter.
  const [{ ahead }] = await sql`SELECT (pg_current_xact_id()::text::numeric + 1000000000)::text AS ahead`;
  for (const n of [1, 2, 3]) await sql`INSERT INTO events (id, type, received_at, dedup_key, envelope, tx) VALUES (${evt(n)}, 'message.received', 1, ${`k${n}`}, '{}', ${ahead}::xid8)`;
  const lastReceived = await stream.resume(evt(3)); // a client's Last-Event-ID
  await sql.begin((tx) => insert(tx, 4));
  await Bun.sleep(100);
  expect((await drain(stream, lastReceived)).ids).toEqual([]); // hidden behind the restored ids: what start now mends

  // All of them, evt 4 too: ordered by id (time-ordered ULIDs), nothing new sorts before what came before it.
  expect(await settleStreamOrder(sql)).toBe(4);
  expect(await settleStreamOrder(sql)).toBe(0); // once: a second start finds nothing
  await sql.begin((tx) => insert(tx, 5));
  expect((await until(stream, await stream.resume(evt(3)), 2)).ids).toEqual([evt(4), evt(5)]);
  expect((await drain(stream, await stream.resume(evt(1)))).ids).toEqual([evt(2), evt(3), evt(4), evt(5)]);
});

test("the cursor's text sorts as (transaction, id) does", () => {
  const cursors = [pgCursor("9", evt(5)), pgCursor("10", ""), pgCursor("10", evt(1)), pgCursor("10", evt(2)), pgCursor(18446744073709551615n, "")];
  expect([...cursors].sort()).toEqual(cursors);
  expect(parsePgCursor(cursors[0]!)).toEqual({ tx: "9", id: evt(5) });
  expect(parsePgCursor(pgCursor("0", ""))).toEqual({ tx: "0", id: "" });
  expect(parsePgCursor(evt(1))).toBeNull();
  expect(cursorEventId(evt(1))).toBe(evt(1));
  expect(cursorEventId("evt_")).toBeNull();
});

test("the stream hub fed by this engine: from its window, a client at any cursor gets what the database gives, though ids interleave", async () => {
  const { sql } = await migratedDatabase(6);
  const stream = postgresEventStream(sql);
  const hub = new StreamHub((filter, after, maxBytes) => stream.after(filter, after, 200, maxBytes), (id) => stream.resume(id));
  const leave = hub.join();
  try {
    const start = (await hub.read(none, null, 1 << 20)).last!;
    await Bun.sleep(400); // the hub's first poll: its window starts at the horizon
    // Each round, the transaction storing the larger id starts first and commits last, around one storing the smaller id: stream order is not id order.
    for (let round = 0; round < 5; round++) {
      const a = openTransaction(sql, (tx) => insert(tx, 100 + 2 * round + 1, { type: "message.status" }));
      await a.ready;
      await sql.begin((tx) => insert(tx, 100 + 2 * round));
      await a.commit();
    }
    await until(stream, start, 10);
    await Bun.sleep(600); // a poll or two: the window holds every event
    const stored = [...(await sql`SELECT id FROM events ORDER BY tx, id COLLATE "C"`)].map((r: { id: string }) => r.id);
    expect(stored).toHaveLength(10);
    const decoder = new TextDecoder();
    const follow = async (filter: EventFilter, after: string) => {
      const ids: string[] = [];
      for (;;) {
        const read = await hub.read(filter, after, 1 << 20);
        ids.push(...read.messages.map((m) => /^id: (\S+)/.exec(decoder.decode(m))![1]!));
        after = read.last!;
        if (!read.more) return ids;
      }
    };
    expect(await follow(none, start)).toEqual(stored);
    expect(await follow({ ...none, types: ["message.status"] }, start)).toEqual((await drain(stream, start, { ...none, types: ["message.status"] })).ids);
    // A client resuming after any event (its Last-Event-ID) gets the rest, in stream order.
    for (let i = 0; i < stored.length; i++) expect(await follow(none, await hub.resumeAt(stored[i]!))).toEqual(stored.slice(i + 1));
  } finally {
    leave();
  }
});
