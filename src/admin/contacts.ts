/** GET /v1/contacts/{wa_id} (profile, opt-out, last seen, recent messages) and DELETE (erasure). */
import type { Database } from "bun:sqlite";
import { contactStore, type ContactRow, type Mention, type MessageSummary } from "../store/contact-store";
import { retentionStore } from "../store/retention-store";
import { giveBackFreePages } from "../sweeper/retention";
import { isoOrNull } from "../util/time";
import { erasePerson } from "../whatsapp/erase";
import type { Identity } from "../domain/identity";
import { searchKey, mentionsOfAny, personId, waIdDigits, type Mentions } from "../whatsapp/phone-mention";
import { badRequest, notFound, ok, type AdminAnswer } from "./answers";

/** Messages GET /v1/contacts/{wa_id} shows, newest first. */
export const RECENT = 20;
/** A step of the walk for mentions takes about this long (its key range adapts); a pause as long follows it. */
const WALK_STEP_MS = 10;
const WALK_STEP_KEYS = { first: 10, max: 10_000, growth: 4 };
const WAL_ATTEMPTS = 10;
const WAL_RETRY_MS = 100;
export const BAD_WA_ID = "wa_id: expected the person's number, 7 to 15 digits, with or without a leading + (e.g. 16505551234), or their user id as Meta gives it (e.g. US.13491208655302741918, user.9373795779eb4a2c)";
/** The half share of the writer thread that background work takes while webhooks wait. */
const giveWay = (workedMs: number) => Bun.sleep(workedMs);

export function getContact(db: Database, rawWaId: string): AdminAnswer {
  const waId = personId(rawWaId);
  if (waId === null) return badRequest(BAD_WA_ID);
  const store = contactStore(db);
  // By any id they had: the person, all their ids.
  const person = store.identity(waId);
  if (!store.known(person.ids)) return notFound(`no contact ${waId}`);
  return contactAnswer(waId, person, store.get(person), store.recent(person.ids, RECENT));
}

/** A known person as GET /v1/contacts/{wa_id} shows them (both engines): `wa_id` as asked, `identity` their current ids and every id they had. */
export function contactAnswer(waId: string, person: Identity, c: ContactRow | null, recent: readonly MessageSummary[]): AdminAnswer {
  return ok({
    wa_id: waId,
    identity: person,
    profile_name: c?.profile_name ?? null,
    marketing_opt_out: c?.marketing_opt_out === 1,
    last_seen_at: isoOrNull(c?.last_seen_at ?? null),
    updated_at: isoOrNull(c?.updated_at ?? null),
    recent_messages: recent.map((m) => ({ wamid: m.wamid, direction: m.direction, [m.direction === "inbound" ? "kind" : "status"]: m.kind_or_status, at: isoOrNull(m.at) })),
  });
}

/**
 * Erases a person: first walks every webhook body and event envelope for their number
 * (a step at a time, giving way to the webhooks arriving meanwhile), then deletes and
 * rewrites in one transaction that also looks at what arrived during the walk, with
 * what it removes overwritten with zeros; then gives the freed pages back to the file
 * system and empties the WAL, so the old bytes leave the files.
 */
export async function eraseContact(db: Database, rawWaId: string, now: number): Promise<AdminAnswer> {
  const waId = personId(rawWaId);
  if (waId === null) return badRequest(BAD_WA_ID);
  const store = contactStore(db);
  // Every id the person had: erasing one erases them all.
  const walked = store.identity(waId).ids;
  const own = ownNumbersAmong(walked, store.businessNumbers(walked));
  if (own.length > 0) return badRequest(notAPerson(waId, own));
  const bodiesEnd = store.walk.bodies.end();
  const envelopesEnd = store.walk.envelopes.end();
  const bodies = await walk(bodiesEnd, (from, to) => walked.flatMap((id) => store.walk.bodies.find(from, to, searchKey(id))), mentionsOfAny(walked));
  const envelopes = await walk(envelopesEnd, (from, to) => walked.flatMap((id) => store.walk.envelopes.find(from, to, searchKey(id))), mentionsOfAny(walked));
  const erased = store.zeroing(() =>
    db
      .transaction(() => {
        // A change that linked another id while the walk went on: that id is searched for from the start.
        const ids = store.identity(waId).ids;
        const mentions = mentionsOfAny(ids);
        for (const id of ids) {
          const from = walked.includes(id) ? { bodies: bodiesEnd, envelopes: envelopesEnd } : { bodies: 0, envelopes: 0 };
          // What arrived while the walk went on.
          bodies.push(...found(store.walk.bodies.find(from.bodies, Number.MAX_SAFE_INTEGER, searchKey(id)), mentions));
          envelopes.push(...found(store.walk.envelopes.find(from.envelopes, Number.MAX_SAFE_INTEGER, searchKey(id)), mentions));
        }
        if (!store.known(ids) && bodies.length + envelopes.length === 0) return null;
        return store.erase(ids, { events: [...new Set(envelopes)], webhooks: [...new Set(bodies)] }, (body) => erasePerson(body, mentions), now);
      })
      .immediate(),
  );
  if (erased === null) return notFound(`no contact ${waId}`);
  const freedPages = await giveBackFreePages(retentionStore(db), giveWay);
  return erasedAnswer(waId, erased, { freed_pages: freedPages, wal_emptied: await emptyWal(() => store.truncateWal()) });
}

/**
 * The business's own numbers among a person's ids: a phone number id its events carry, or
 * the display number of its newest events. Every webhook names them (metadata): erasing
 * one would erase everything, and they are not a person's.
 */
export function ownNumbersAmong(ids: readonly string[], known: { phoneNumberIds: readonly string[]; displayNumbers: readonly (string | null)[] }): string[] {
  const displays = new Set(known.displayNumbers.flatMap((n) => (n === null ? [] : [waIdDigits(n) ?? n])));
  return ids.filter((id) => known.phoneNumberIds.includes(id) || displays.has(id));
}

export const notAPerson = (waId: string, own: readonly string[]) =>
  `wa_id: ${waId} is ${own.includes(waId) ? "" : `linked to ${own.join(", ")}, `}this business's own number (its phone number id or display number in the webhooks' metadata), not a person's: nothing was erased`;

/** What an erasure did, as DELETE /v1/contacts/{wa_id} answers it (both engines); null `erased`: nothing of them was found. */
export function erasedAnswer(waId: string, erased: Record<string, number> | null, storage: { freed_pages: number; wal_emptied: boolean }): AdminAnswer {
  if (erased === null) return notFound(`no contact ${waId}`);
  return ok({ wa_id: waId, erased, storage });
}

/** The WAL checkpointed and truncated, trying again while a checkpoint or a reader is in the way. */
async function emptyWal(truncate: () => boolean): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    if (truncate()) return true;
    if (attempt === WAL_ATTEMPTS) return false;
    await Bun.sleep(WAL_RETRY_MS);
  }
}

/** The keys of a table's rows that mention the number, up to `end`, one step of keys at a time. */
async function walk<K, T>(end: number, find: (from: number, to: number) => Mention<K, T>[], mentions: Mentions): Promise<K[]> {
  const keys: K[] = [];
  let step = WALK_STEP_KEYS.first;
  for (let from = 0, to = 0; from < end; from = to) {
    to = Math.min(from + step, end);
    const started = performance.now();
    keys.push(...found(find(from, to), mentions));
    const tookMs = performance.now() - started;
    await giveWay(tookMs);
    // Big bodies make a key slow to read, small ones fast: aim the next step at WALK_STEP_MS.
    const aimed = Math.round((step * WALK_STEP_MS) / Math.max(tookMs, 0.1));
    step = Math.max(1, Math.min(WALK_STEP_KEYS.max, step * WALK_STEP_KEYS.growth, aimed));
  }
  return keys;
}

/** The keys of the rows the database's coarse search returned that do mention the number. */
const found = <K, T>(rows: Mention<K, T>[], mentions: Mentions): K[] =>
  rows.filter((r) => mentions(typeof r.text === "string" ? r.text : new TextDecoder().decode(r.text as Uint8Array))).map((r) => r.key);
