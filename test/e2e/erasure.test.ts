/**
 * Erasing a person (DELETE /v1/contacts/{wa_id}) from data whatever its shape: a
 * signed envelope of an unknown field, signed JSON that is no envelope, a signed body
 * that is not JSON, someone else's message quoting the number, each with the number
 * written its own way and a name and text beside it. Right after the erasure, and
 * again after `wa-webhookd vacuum`, the bytes of the database file and its WAL hold
 * none of it (what `strings file | grep` would find); everyone else's data stays.
 */
import { beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { segmentsDir } from "../../src/store/segment-log";
import { requireBinary, runBinary, stopAfterEach, waitFor } from "../support/daemon";
import { descriptors } from "../support/descriptors";
import { ADMIN, filledDaemon, FIXTURES, PERSON, processedAll, type Page } from "../support/filled";
import { hookToml } from "../support/pipeline";
import { Sink } from "../support/sink";
import { METADATA, signedPost } from "../support/webhooks";

beforeAll(requireBinary);
const { daemons, sinks } = stopAfterEach();

const envelope = (...changes: unknown[]) => JSON.stringify({ object: "whatsapp_business_account", entry: [{ id: "102290129340398", time: 1751247548, changes }] });
/** What must leave with the person: the number in every form used below, and the names and texts that came with it. */
const TRACES = [PERSON, "(650) 555-1234", "1-650-555-1234", "650 555 1234", "Qzx Erasable", "Wvy Erasable", "Jkq Erasable", "unknown-field secret", "not-an-envelope secret", "plain-text secret", "quoting secret"];

/** Every place a trace is in the bytes of the database file, its WAL and the inbox log's segments. */
function tracesIn(dbPath: string): string[] {
  const found: string[] = [];
  const segments = existsSync(segmentsDir(dbPath)) ? readdirSync(segmentsDir(dbPath)).map((f) => join(segmentsDir(dbPath), f)) : [];
  for (const file of [dbPath, `${dbPath}-wal`, ...segments]) {
    if (!existsSync(file)) continue;
    const bytes = readFileSync(file);
    for (const t of TRACES) if (bytes.includes(Buffer.from(t))) found.push(`${file.slice(-6)}: ${t}`);
  }
  return found;
}

test("erasure reaches bodies and envelopes of any shape; after it and vacuum, the file, WAL and inbox log hold no trace", async () => {
  const sink = new Sink().start();
  sinks.push(sink);
  const { daemon, config, dbPath, json } = await filledDaemon(daemons, hookToml(sink.url));
  const posts = [
    // A valid envelope of a field we do not know: the person's part and someone else's.
    envelope(
      { field: "contact_sync", value: { user: { phone: "+1 (650) 555-1234", name: "Qzx Erasable" }, note: "unknown-field secret" } },
      { field: "contact_sync", value: { user: { phone: "+44 20 7946 0000", name: "Other Person Stays" } } },
    ),
    // JSON that is no WhatsApp envelope, and a body that is not JSON.
    JSON.stringify({ hello: "world", phone: PERSON, name: "Wvy Erasable", text: "not-an-envelope secret" }),
    `phone=1-650-555-1234&name=Jkq Erasable&text=plain-text secret`,
    // Someone else's message quoting the number, and another of theirs that does not.
    envelope({
      field: "messages",
      value: {
        messaging_product: "whatsapp",
        metadata: METADATA,
        contacts: [{ profile: { name: "Ann Other" }, wa_id: "447700900123" }],
        messages: [
          { from: "447700900123", id: "wamid.QUOTES", timestamp: "1749416383", type: "text", text: { body: "call 1 650 555 1234, quoting secret" } },
          { from: "447700900123", id: "wamid.NOTTHEM", timestamp: "1749416384", type: "text", text: { body: "nothing about them" } },
        ],
      },
    }),
  ];
  for (const body of posts) expect((await signedPost(`${daemon.url}/webhook`, body)).status).toBe(200);
  await processedAll(dbPath, FIXTURES.length + posts.length);

  const res = await fetch(`${daemon.url}/v1/contacts/+${PERSON}`, { method: "DELETE", headers: ADMIN });
  expect(res.status).toBe(200);
  const answer = (await res.json()) as { wa_id: string; erased: Record<string, number>; storage: { freed_pages: number; wal_emptied: boolean } };
  expect(answer.wa_id).toBe(PERSON);
  // The unknown field's event, the not-an-envelope's event, the quoting message: none was about them by wa_id. And four
  // of the fixtures that name the user ids the fixtures' user_id_update gives their number (issue 22: one person):
  // group participants, a history chunk. (A username user's message is theirs by subject: its BSUID, linked to the number.)
  expect(answer.erased.events_mentioning).toBe(3 + 4);
  // The group message's other member's status (16505559876) is theirs, not the person's: it stays.
  expect(answer.erased.events).toBe(59);
  expect(answer.erased.webhooks_unreadable).toBe(2); // not JSON; JSON but no envelope
  expect(answer.erased.webhooks_rewritten).toBeGreaterThanOrEqual(2); // the unknown field's, the quoting one's (and the corpus's)
  expect(answer.storage.wal_emptied).toBe(true);
  // Deleted content is zeroed, free pages given back and the WAL emptied: nothing left even before a vacuum.
  expect(tracesIn(dbPath)).toEqual([]);
  // Nor in a deleted segment the daemon still holds open (its bytes would stay on disk until closed).
  const deletedSegmentsHeld = () => descriptors(daemon.proc.pid).filter((d) => d.target.includes(".segments/") && d.target.endsWith("(deleted)"));
  await waitFor(() => deletedSegmentsHeld().length === 0, 3_000);

  // Everyone else's data stays: the other change of the unknown field, the other message.
  const unknown = (await json<Page>("/v1/events?type=webhook.unknown&limit=500")).data.map((e) => JSON.stringify(e));
  expect(unknown.some((e) => e.includes("Other Person Stays"))).toBe(true);
  expect((await json<Page>("/v1/events?wamid=wamid.NOTTHEM")).data).toHaveLength(1);
  expect((await json<Page>("/v1/events?from=16505559876&type=message.status")).data.map((e) => e.data.recipient_participant_id)).toEqual(["16505559876"]);
  expect((await json<Page>("/v1/events?wamid=wamid.QUOTES")).data).toHaveLength(0);
  expect((await fetch(`${daemon.url}/v1/contacts/${PERSON}`, { method: "DELETE", headers: ADMIN })).status).toBe(404);

  // Stopped (its last checkpoint empties the WAL), then vacuumed: no byte of it is left.
  expect(await daemon.stop()).toBe(0);
  expect(runBinary(["vacuum", "--config", config]).code).toBe(0);
  expect(tracesIn(dbPath)).toEqual([]);
});

test("a wa_id that is no number is refused, naming the parameter; an unknown one is 404", async () => {
  const { daemon } = await filledDaemon(daemons);
  for (const bad of ["abc", "123", "1650555123456789"]) {
    const res = await fetch(`${daemon.url}/v1/contacts/${bad}`, { method: "DELETE", headers: ADMIN });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { reason: string }).reason).toStartWith("wa_id:");
    expect((await fetch(`${daemon.url}/v1/contacts/${bad}`, { headers: ADMIN })).status).toBe(400);
  }
  expect((await fetch(`${daemon.url}/v1/contacts/19995550000`, { method: "DELETE", headers: ADMIN })).status).toBe(404);
});
