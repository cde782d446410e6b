/**
 * The live stream's shared window (http/stream-hub.ts) on a real database filled by
 * the real pipeline: clients with any filter, at any cursor, get from memory exactly
 * what the database query gives them; a client behind the window reads the database;
 * the writer thread is asked once per new event however many clients follow.
 */
import { expect, test } from "bun:test";
import { envelopesAfter } from "../../src/admin/events";
import type { EventFilter } from "../../src/store/event-query";
import { StreamHub } from "../../src/http/stream-hub";
import { FIXTURES } from "../support/filled";
import { fixture, pipeline } from "../support/pipeline";
import { textMessage } from "../support/webhooks";

const none: EventFilter = { types: null, phoneNumberId: null, wamid: null, waId: null, since: null, until: null };
const decoder = new TextDecoder();
const idsOf = (messages: Uint8Array[]) => messages.map((m) => /^id: (\S+)/.exec(decoder.decode(m))![1]!);

/** A filled database and a hub reading it; `fetches.n` counts its reads (the hub's polls included). */
function setup() {
  const p = pipeline();
  const fetches = { n: 0 };
  const hub = new StreamHub(async (filter, after, maxBytes) => {
    fetches.n++;
    return envelopesAfter(p.db, filter, after, 200, maxBytes);
  });
  const process = async () => {
    while ((await p.processor.runOnce()).jobs > 0);
  };
  const all = (filter: EventFilter, after: string) => envelopesAfter(p.db, filter, after, 100_000).events.map((e) => e.id);
  return { p, hub, fetches, process, all };
}

/** Reads until the hub has nothing more for this cursor, `maxBytes` at a time. */
async function drain(hub: StreamHub, filter: EventFilter, after: string, maxBytes = 1 << 20) {
  const ids: string[] = [];
  for (;;) {
    const read = await hub.read(filter, after, maxBytes);
    ids.push(...idsOf(read.messages));
    after = read.last!;
    if (!read.more && read.messages.length === 0) return { ids, after };
  }
}

test("from the window, every filter gives exactly what the database query gives, in order", async () => {
  const { p, hub, process, all } = setup();
  const leave = hub.join();
  const start = (await hub.read(none, null, 0)).last!;
  await Bun.sleep(50); // the hub's first poll: the window starts at the newest event
  for (const name of FIXTURES) p.post(JSON.stringify(fixture(name).payload));
  await process();
  await Bun.sleep(400); // a poll interval: the window now holds every event
  const filters: EventFilter[] = [
    none,
    { ...none, types: ["message.received"] },
    { ...none, types: ["message.status", "template.status", "webhook.unknown"] },
    { ...none, waId: "16505551234" },
    { ...none, phoneNumberId: "106540352242922" },
    { ...none, wamid: "wamid.HBgLMTY1MDUyNTIyMzQVAgASGBQzQTdFNDI2QzE0MTBFOUM5QzA5QQA=" },
    { ...none, since: p.clock.now() - 1, until: p.clock.now() + 1 },
    { ...none, until: 0 },
  ];
  for (const filter of filters) {
    const expected = all(filter, start);
    // Small reads as well as large: a cut between two events loses and repeats nothing.
    for (const maxBytes of [1 << 20, 600]) expect({ filter, ids: (await drain(hub, filter, start, maxBytes)).ids }).toEqual({ filter, ids: expected });
  }
  expect(all(none, start).length).toBeGreaterThan(FIXTURES.length);
  leave();
});

test("many clients following the stream cost one read per new batch; a client behind the window reads the database", async () => {
  const { p, hub, fetches, process, all } = setup();
  p.post(textMessage("wamid.BEFORE"));
  await process();
  const before = envelopesAfter(p.db, none, "evt_", 10).events[0]!.id;
  const leave = hub.join();
  const start = (await hub.read(none, null, 0)).last!;
  await Bun.sleep(50);
  for (let i = 0; i < 20; i++) p.post(textMessage(`wamid.W${i}`));
  await process();
  await Bun.sleep(400);
  fetches.n = 0;
  const clients = await Promise.all(Array.from({ length: 50 }, () => drain(hub, none, start)));
  expect(clients.every((c) => c.ids.join() === all(none, start).join())).toBe(true);
  expect(clients[0]!.ids).toHaveLength(20);
  expect(fetches.n).toBeLessThanOrEqual(1); // the hub's own poll at most: none of the 50 asked the database
  // The event before the window: that client reads it from the database, then joins the window.
  fetches.n = 0;
  const late = await drain(hub, none, "evt_"); // "evt_" sorts before every id
  expect(late.ids).toEqual([before, ...all(none, start)]);
  expect(fetches.n).toBeGreaterThanOrEqual(1);
  leave();
});

test("after forget() (an erasure), clients read the database again: nothing erased is served from memory", async () => {
  const { p, hub, process, all } = setup();
  const leave = hub.join();
  const start = (await hub.read(none, null, 0)).last!;
  await Bun.sleep(50);
  p.post(textMessage("wamid.GONE"));
  await process();
  await Bun.sleep(400);
  expect((await drain(hub, none, start)).ids).toHaveLength(1);
  p.db.run("DELETE FROM deliveries; DELETE FROM events");
  hub.forget();
  expect((await drain(hub, none, start)).ids).toEqual([]);
  expect(all(none, start)).toEqual([]);
  leave();
});
