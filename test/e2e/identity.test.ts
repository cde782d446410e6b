/**
 * A person's identities on the compiled binary (issue 22): a number changed, and a late,
 * older change arriving after it; a lookup by any of their numbers or user ids finds the
 * person with the current ids Meta's clock gives; `?from=` an old number lists the
 * events of every number they had; erasing by the current number leaves no byte of any
 * of them in the database file or its WAL.
 */
import { Database } from "bun:sqlite";
import { beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { requireBinary, stopAfterEach, waitFor } from "../support/daemon";
import { ADMIN, filledDaemon, FIXTURES, PERSON, processedAll, type Page } from "../support/filled";
import { METADATA, signedPost } from "../support/webhooks";

beforeAll(requireBinary);
const { daemons } = stopAfterEach();

const [FIRST, SECOND, THIRD] = ["14155550122", "14155550100", "14155550111"];
const envelope = (time: number, ...messages: unknown[]) =>
  JSON.stringify({ object: "whatsapp_business_account", entry: [{ id: "102290129340398", time, changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata: METADATA, messages } }] }] });
const changed = (from: string, to: string, time: number) =>
  envelope(time, { from, id: `wamid.CHANGE${from}`, timestamp: String(time), type: "system", system: { body: `User A changed from ${from} to ${to}`, wa_id: to, type: "user_changed_number" } });
const text = (from: string, time: number) => envelope(time, { from, id: `wamid.TEXT${from}`, timestamp: String(time), type: "text", text: { body: "hello" } });

test("changes of number in any order: any number finds the person, the newest change's number current; erasing by one erases them all", async () => {
  const { daemon, dbPath, json } = await filledDaemon(daemons);
  // SECOND → THIRD first; the older FIRST → SECOND arrives late and must not undo it.
  for (const body of [text(FIRST, 1_760_000_000), changed(SECOND, THIRD, 1_760_000_200), text(THIRD, 1_760_000_300), changed(FIRST, SECOND, 1_760_000_100), changed(FIRST, SECOND, 1_760_000_100)]) {
    expect((await signedPost(`${daemon.url}/webhook`, body)).status).toBe(200);
  }
  const db = new Database(dbPath, { readonly: true });
  await waitFor(() => db.query<{ n: number }, []>("SELECT count(*) n FROM inbox WHERE state IN ('pending', 'processing')").get()!.n === 0);
  db.close();

  for (const id of [FIRST, SECOND, `+${THIRD}`]) {
    const person = await json<{ identity: unknown }>(`/v1/contacts/${encodeURIComponent(id)}`);
    expect(person.identity).toEqual({ wa_id: THIRD, user_id: null, parent_user_id: null, ids: [SECOND, THIRD, FIRST].sort() });
  }
  const wamids = (await json<Page>(`/v1/events?from=${FIRST}&type=message.received`)).data.map((e) => e.data.wamid).sort();
  expect(wamids).toEqual([`wamid.CHANGE${FIRST}`, `wamid.CHANGE${SECOND}`, `wamid.TEXT${FIRST}`, `wamid.TEXT${THIRD}`].sort());

  // A business-scoped user id finds the fixtures' person (user_id_update names their number).
  const byUserId = await json<{ identity: { ids: string[] } }>("/v1/contacts/US.13491208655302741919");
  expect(byUserId.identity.ids).toContain(PERSON);

  const erased = await fetch(`${daemon.url}/v1/contacts/${THIRD}`, { method: "DELETE", headers: ADMIN });
  expect(erased.status).toBe(200);
  for (const id of [FIRST, SECOND, THIRD]) expect((await fetch(`${daemon.url}/v1/contacts/${id}`, { headers: ADMIN })).status).toBe(404);
  expect((await json<Page>(`/v1/events?from=${FIRST}`)).data).toEqual([]);
  // Zeroed and the WAL emptied: none of their numbers is left in the bytes.
  for (const file of [dbPath, `${dbPath}-wal`]) {
    if (!existsSync(file)) continue;
    const bytes = readFileSync(file);
    expect([FIRST, SECOND, THIRD].filter((n) => bytes.includes(Buffer.from(n)))).toEqual([]);
  }
  // The fixtures' person is still there: erasing one person erases no one else.
  expect((await fetch(`${daemon.url}/v1/contacts/${PERSON}`, { headers: ADMIN })).status).toBe(200);
});

test("the live stream of a person follows every id they have had: a stream opened with the old number gets the new number's events, and no one else's", async () => {
  const { daemon, dbPath } = await filledDaemon(daemons);
  const [OLD, NEW, OTHER] = ["14155550301", "14155550302", "14155550399"];
  expect((await signedPost(`${daemon.url}/webhook`, changed(OLD, NEW, 1_760_000_000))).status).toBe(200);
  await processedAll(dbPath, FIXTURES.length + 1);
  const controller = new AbortController();
  const res = await fetch(`${daemon.url}/v1/events/stream?from=${OLD}`, { headers: ADMIN, signal: controller.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let received = "";
  await Bun.sleep(300); // the stream stands at the newest event now
  for (const body of [text(OTHER, 1_760_000_100), text(NEW, 1_760_000_200)]) expect((await signedPost(`${daemon.url}/webhook`, body)).status).toBe(200);
  const deadline = Date.now() + 10_000;
  while (!received.includes(`wamid.TEXT${NEW}`) && Date.now() < deadline) received += decoder.decode((await reader.read()).value);
  controller.abort();
  expect(received).toContain(`wamid.TEXT${NEW}`);
  expect(received).not.toContain(`wamid.TEXT${OTHER}`); // posted first: it would have come first
});
