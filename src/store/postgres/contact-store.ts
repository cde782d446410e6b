/**
 * A person on the PostgreSQL engine, as the admin API shows them (GET /v1/contacts/{wa_id})
 * and erases them (DELETE): the same rows as SQLite's store/contact-store.ts finds and
 * removes, with the same counts. Differences, and why:
 *
 * - The search for the number inside webhook bodies and event envelopes runs in the
 *   erasure's transaction, as one scan by the database, not as a walk before it: ids here
 *   come from sequences and ULIDs of several instances, committed out of order, so "what
 *   arrived after the walk" has no key range to look again at. Processing batches wait
 *   for the erasure meanwhile (store/postgres/erasure-gate.ts); webhooks are still
 *   acknowledged.
 * - A webhook rewritten while an instance holds it (claimed, not yet committed) is given
 *   back to the queue (its lease cleared, the attempt uncounted): that instance's commit
 *   finds the job no longer its own and drops what it made from the old body; the job is
 *   processed again from the new one (its progress forgotten: the events of others it
 *   already stored are recognised as duplicates).
 * - PostgreSQL has no secure_delete: the old row versions stay in the table files until
 *   vacuum reuses their space, and in the WAL until its segments are recycled.
 */
import type { SQL } from "bun";
import type { ContactRow, MessageSummary, Rewrite } from "../contact-store";
import { identityOf, type Identity } from "../../domain/identity";
import { mergeContacts, type ValueClock } from "../../domain/person-contact";
import { DISPLAY_NUMBERS_LOOKBACK } from "../../config/defaults";
import { NUMBER_SEPARATORS, searchKey, mentionsOfAny, type Mentions } from "../../whatsapp/phone-mention";
import { identitiesOfPersons } from "./identities";
import { beforeErasing } from "./erasure-gate";

/** Read as LATIN1 (every byte a character, never a decoding error), a no-break space is Â then itself: both go. */
const BODY_SEPARATORS = [...NUMBER_SEPARATORS, "\u00c2"].join("");
const TEXT_SEPARATORS = NUMBER_SEPARATORS.join("");

/** What an erasure removed, as SQLite's erasure counts it. */
export interface ErasedCounts {
  events: number;
  events_mentioning: number;
  deliveries: number;
  dedup_keys: number;
  statuses: number;
  messages: number;
  fallback: number;
  state: number;
  contact: number;
  webhooks_deleted: number;
  webhooks_rewritten: number;
  webhooks_unreadable: number;
}

type Tx = SQL;
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

export function postgresContactStore(sql: SQL) {
  return {
    /** The person an id belongs to: their current ids and every id they had (only this one when no change linked it). */
    identity: async (id: string): Promise<Identity> => identityOf(id, await identitiesOfPersons(sql, [id])),
    /** The person's contact, their rows under each id merged (domain/person-contact.ts). */
    async get(person: Identity): Promise<ContactRow | null> {
      const ids = sql.array(person.ids, "TEXT");
      const [rows, clocks] = await Promise.all([
        sql`
          SELECT wa_id, profile_name, last_seen_at::float8 AS last_seen_at, marketing_opt_out::int AS marketing_opt_out, updated_at::float8 AS updated_at
          FROM contacts WHERE wa_id = ANY(${ids}::text[]) ORDER BY wa_id`,
        sql`
          SELECT subject_id AS id, attribute, at::float8 AS at FROM state_values
          WHERE subject = 'contact' AND subject_id = ANY(${ids}::text[]) AND attribute IN ('profile_name', 'marketing_opt_out')`,
      ]);
      return mergeContacts(person.wa_id ?? person.ids[0]!, rows as ContactRow[], clocks as ValueClock[]);
    },
    /** Their messages through their events (events_by_wa_id), newest first. */
    async recent(waIds: readonly string[], limit: number): Promise<MessageSummary[]> {
      const ids = sql.array([...waIds], "TEXT");
      const rows = await sql`
        SELECT e.wamid, 'inbound' AS direction, i.kind AS kind_or_status, i.received_at::float8 AS at
          FROM (SELECT DISTINCT wamid FROM events WHERE wa_id = ANY(${ids}::text[]) AND type = 'message.received') e JOIN inbound_messages i ON i.wamid = e.wamid
        UNION ALL
        SELECT e.wamid, 'outbound', o.status, o.first_seen_at::float8
          FROM (SELECT DISTINCT wamid FROM events WHERE wa_id = ANY(${ids}::text[]) AND type = 'message.status') e JOIN outbound_messages o ON o.wamid = e.wamid
        ORDER BY at DESC LIMIT ${limit}`;
      return [...rows] as MessageSummary[];
    },
    known: (ids: readonly string[]) => known(sql, ids),
    /** The business's own numbers as its events name them (admin/contacts.ts, ownNumbersAmong). */
    async businessNumbers(ids: readonly string[]) {
      const list = sql.array([...ids], "TEXT");
      const [phoneNumberIds, displayNumbers] = await Promise.all([
        sql`SELECT DISTINCT phone_number_id AS n FROM events WHERE phone_number_id = ANY(${list}::text[])`,
        sql`SELECT DISTINCT envelope::jsonb ->> 'display_phone_number' AS n FROM (SELECT envelope FROM events ORDER BY id DESC LIMIT ${DISPLAY_NUMBERS_LOOKBACK}) recent`,
      ]);
      return { phoneNumberIds: (phoneNumberIds as { n: string }[]).map((r) => r.n), displayNumbers: (displayNumbers as { n: string | null }[]).map((r) => r.n) };
    },
    /**
     * Erases everything about the person the id belongs to, under every id they had, and
     * every body and envelope that mentions one of them, in one transaction; null when
     * there is nothing of them. The ids are read behind the gate: no batch links another meanwhile.
     */
    erase: (waId: string, rewrite: (mentions: Mentions) => Rewrite, now: number) =>
      sql.begin(async (tx) => {
        await beforeErasing(tx);
        const ids = identityOf(waId, await identitiesOfPersons(tx, [waId])).ids;
        const mentions = mentionsOfAny(ids);
        const mentioning = await findMentions(tx, ids, mentions);
        if (mentioning.events.length + mentioning.webhooks.length === 0 && !(await known(tx, ids))) return null;
        return erase(tx, ids, mentioning, rewrite(mentions), now);
      }) as Promise<ErasedCounts | null>,
  };
}

async function known(sql: SQL, waIds: readonly string[]): Promise<boolean> {
  const ids = sql.array([...waIds], "TEXT");
  const [{ n }] = await sql`
    SELECT EXISTS (SELECT 1 FROM contacts WHERE wa_id = ANY(${ids}::text[])) OR EXISTS (SELECT 1 FROM events WHERE wa_id = ANY(${ids}::text[]))
      OR EXISTS (SELECT 1 FROM tracked_messages WHERE recipient = ANY(${ids}::text[])) AS n`;
  return n === true;
}

/** Bodies and envelopes that mention one of the ids: the database's coarse search (digits without separators), then `mentions` decides. */
async function findMentions(tx: Tx, ids: readonly string[], mentions: Mentions) {
  const digits = tx.array(ids.map(searchKey), "TEXT");
  const [bodies, envelopes] = await Promise.all([
    tx`SELECT inbox_id::float8 AS key, body FROM inbox_bodies b
       WHERE EXISTS (SELECT 1 FROM unnest(${digits}::text[]) AS d WHERE position(d IN translate(convert_from(b.body, 'LATIN1'), ${BODY_SEPARATORS}, '')) > 0)`,
    tx`SELECT id AS key, envelope FROM events e
       WHERE EXISTS (SELECT 1 FROM unnest(${digits}::text[]) AS d WHERE position(d IN translate(e.envelope, ${TEXT_SEPARATORS}, '')) > 0)`,
  ]);
  return {
    webhooks: (bodies as { key: number; body: Uint8Array }[]).filter((r) => mentions(decode(r.body))).map((r) => r.key),
    events: (envelopes as { key: string; envelope: string }[]).filter((r) => mentions(r.envelope)).map((r) => r.key),
  };
}

/**
 * Deletes everything about one person, in the caller's transaction, as SQLite's erase():
 * their wamids first, then the events about them or those wamids or that mention them,
 * their deliveries and dedup keys, their state, and the webhook bodies (one that held
 * only them goes, one that held others too is rewritten without them and marked, one
 * they cannot be cut out of goes whole with its events).
 */
async function erase(tx: Tx, waIds: readonly string[], mentioning: { events: string[]; webhooks: number[] }, rewrite: Rewrite, now: number): Promise<ErasedCounts> {
  const texts = (values: readonly string[]) => tx.array([...values], "TEXT");
  const ints = (values: readonly number[]) => tx.array([...values], "INT8");
  const person = texts(waIds);
  // A message sent to a group is the business's and every member's: only their own statuses of it go (by event), never the message.
  const wamids = (
    await tx`SELECT wamid FROM events WHERE wa_id = ANY(${person}::text[]) AND wamid IS NOT NULL
               AND wamid NOT IN (SELECT wamid FROM events WHERE wa_id = ANY(${person}::text[]) AND type = 'message.status' AND envelope::jsonb -> 'data' ->> 'recipient_type' = 'group')
             UNION SELECT wamid FROM tracked_messages WHERE recipient = ANY(${person}::text[])`
  ).map((r: { wamid: string }) => r.wamid);
  const doomed = new Map<string, number | null>();
  const add = (rows: { id: string; inbox_id: number | null }[]) => rows.filter((r) => !doomed.has(r.id)).map((r) => doomed.set(r.id, r.inbox_id)).length;
  add(await tx`SELECT id, inbox_id::float8 AS inbox_id FROM events WHERE wa_id = ANY(${person}::text[]) OR wamid = ANY(${texts(wamids)}::text[])`);
  const mentionedOnly = add(await tx`SELECT id, inbox_id::float8 AS inbox_id FROM events WHERE id = ANY(${texts(mentioning.events)}::text[])`);
  // The webhooks behind those events and those whose body mentions them: what becomes of each body.
  const withEvents = new Set([...doomed.values()].filter((id) => id !== null));
  const candidates = [...new Set([...withEvents, ...mentioning.webhooks])];
  const fate = new Map<number, ReturnType<Rewrite>>();
  for (const r of await tx`SELECT inbox_id::float8 AS id, body FROM inbox_bodies WHERE inbox_id = ANY(${ints(candidates)}::int8[]) ORDER BY inbox_id`) {
    fate.set(r.id, rewrite(decode(r.body)));
  }
  // A body they cannot be cut out of goes whole, and with it every event made from it.
  const whole = [...fate].filter(([, f]) => f === null).map(([id]) => id);
  if (whole.length > 0) add(await tx`SELECT id, inbox_id::float8 AS inbox_id FROM events WHERE inbox_id = ANY(${ints(whole)}::int8[])`);
  const ids = texts([...doomed.keys()]);
  const count = async (q: Promise<{ count: number }>) => (await q).count;
  const w = texts(wamids);
  const counts: ErasedCounts = {
    events: 0,
    events_mentioning: mentionedOnly,
    deliveries: await count(tx`DELETE FROM deliveries WHERE event_id = ANY(${ids}::text[])`),
    dedup_keys: await count(tx`DELETE FROM dedup_keys WHERE event_id = ANY(${ids}::text[])`),
    statuses: await count(tx`DELETE FROM message_statuses WHERE wamid = ANY(${w}::text[]) OR event_id = ANY(${ids}::text[])`),
    messages: (await count(tx`DELETE FROM inbound_messages WHERE wamid = ANY(${w}::text[])`)) + (await count(tx`DELETE FROM outbound_messages WHERE wamid = ANY(${w}::text[])`)),
    fallback:
      (await count(tx`DELETE FROM fallback_sends WHERE wamid = ANY(${w}::text[])`)) +
      (await count(tx`DELETE FROM tracked_timeline WHERE wamid = ANY(${w}::text[])`)) +
      (await count(tx`DELETE FROM tracked_messages WHERE wamid = ANY(${w}::text[])`)),
    state:
      // Their state under every id, and the link between their ids.
      (await count(tx`DELETE FROM state_values WHERE subject = 'contact' AND subject_id = ANY(${person}::text[])`)) +
      (await count(tx`DELETE FROM state_history WHERE subject = 'contact' AND subject_id = ANY(${person}::text[])`)) +
      (await count(tx`DELETE FROM identities WHERE id = ANY(${person}::text[])`)),
    contact: await count(tx`DELETE FROM contacts WHERE wa_id = ANY(${person}::text[])`),
    webhooks_deleted: 0,
    webhooks_rewritten: 0,
    webhooks_unreadable: 0,
  };
  // State history rows of other subjects point at erased events by id only; they name templates and numbers, not people.
  counts.events = await count(tx`DELETE FROM events WHERE id = ANY(${ids}::text[])`);
  await settleWebhooks(tx, fate, withEvents, counts, now);
  return counts;
}

/** Each webhook deleted (whole, or emptied of events that were all about them) or rewritten and marked; counted. */
async function settleWebhooks(tx: Tx, fate: Map<number, ReturnType<Rewrite>>, withEvents: Set<number>, counts: ErasedCounts, now: number) {
  const emptied = withEvents.size === 0 ? new Set<number>() : await withoutEvents(tx, [...withEvents]);
  const gone: number[] = [];
  const rewritten: { id: number; body: string }[] = [];
  for (const [id, f] of fate) {
    if (f === null || emptied.has(id)) {
      gone.push(id);
      if (f === null) counts.webhooks_unreadable++;
    } else if (f.removed > 0) rewritten.push({ id, body: f.body });
  }
  // Its body and progress go with it (ON DELETE CASCADE).
  if (gone.length > 0) counts.webhooks_deleted = (await tx`DELETE FROM inbox WHERE id = ANY(${tx.array(gone, "INT8")}::int8[])`).count;
  for (const r of rewritten) {
    await tx`UPDATE inbox_bodies SET body = ${new TextEncoder().encode(r.body)} WHERE inbox_id = ${r.id}`;
    counts.webhooks_rewritten++;
  }
  if (rewritten.length === 0) return;
  const ids = tx.array(rewritten.map((r) => r.id), "INT8");
  // Held by an instance: given back, so that what it made from the old body is never committed.
  await tx`
    UPDATE inbox SET rewritten_at = ${now},
      attempts = CASE WHEN state = 'processing' THEN greatest(attempts - 1, 0) ELSE attempts END,
      state = CASE WHEN state = 'processing' THEN 'pending' ELSE state END, lease_token = NULL, lease_until = NULL
    WHERE id = ANY(${ids}::int8[])`;
  // Positions counted in the old body mean nothing in the new one.
  await tx`DELETE FROM job_progress WHERE inbox_id = ANY(${ids}::int8[])`;
}

/** Of these webhooks, those no event is left of. */
async function withoutEvents(tx: Tx, inboxIds: number[]): Promise<Set<number>> {
  const left = new Set((await tx`SELECT DISTINCT inbox_id::float8 AS id FROM events WHERE inbox_id = ANY(${tx.array(inboxIds, "INT8")}::int8[])`).map((r: { id: number }) => r.id));
  return new Set(inboxIds.filter((id) => !left.has(id)));
}
