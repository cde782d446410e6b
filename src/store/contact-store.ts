/**
 * A person, as the admin API shows them (GET /v1/contacts/{wa_id}) and erases them
 * (DELETE): every row about them under every id they had (migrations/0013), found
 * through their events (events_by_wa_id, migrations/0008) and the messages those name;
 * and every webhook body and event envelope that mentions one of their ids, whatever its shape, found by walking both
 * tables (no index can find a number inside free text).
 */
import type { Database } from "bun:sqlite";
import { DISPLAY_NUMBERS_LOOKBACK } from "../config/defaults";
import { identityOf, type Identity } from "../domain/identity";
import { mergeContacts, type ContactValues, type ValueClock } from "../domain/person-contact";
import { NUMBER_SEPARATORS } from "../whatsapp/phone-mention";
import { identityStore } from "./identity-store";

/** `column` without the separators numbers are written with: it holds the digits if any form of the number is there. */
const stripped = (column: string) => NUMBER_SEPARATORS.reduce((sql, c) => `replace(${sql}, '${c}', '')`, column);

/** What the walk found: rows whose text may mention the number (the caller decides), by key. */
export interface Mention<K, T> {
  key: K;
  text: T;
}

/** What erase() removes besides the rows about the person: events and webhooks that mention them. */
export interface Mentioning {
  events: readonly string[];
  webhooks: readonly number[];
}

export type Rewrite = (body: string) => { body: string; removed: number } | null;

export type ContactRow = ContactValues;

export interface MessageSummary {
  wamid: string;
  direction: "inbound" | "outbound";
  kind_or_status: string;
  at: number;
}

export function contactStore(db: Database) {
  const phoneNumberIds = db.prepare<{ n: string }, [string]>(
    "SELECT value AS n FROM json_each(?1) WHERE EXISTS (SELECT 1 FROM events INDEXED BY events_by_phone_number WHERE phone_number_id = value)",
  );
  const displayNumbers = db.prepare<{ n: string }, [number]>(
    "SELECT DISTINCT envelope ->> '$.display_phone_number' AS n FROM (SELECT envelope FROM events ORDER BY rowid DESC LIMIT ?1) WHERE n IS NOT NULL",
  );
  // Every query takes the person's ids (domain/identity.ts) as one JSON list.
  const contacts = db.prepare<ContactRow, [string]>("SELECT * FROM contacts WHERE wa_id IN (SELECT value FROM json_each(?1)) ORDER BY wa_id");
  const clocks = db.prepare<ValueClock, [string]>(
    `SELECT subject_id AS id, attribute, at FROM state_values
     WHERE subject = 'contact' AND subject_id IN (SELECT value FROM json_each(?1)) AND attribute IN ('profile_name', 'marketing_opt_out')`,
  );
  // Their messages through their events (events_by_wa_id): no index on the message tables' hot path.
  const recent = db.prepare<MessageSummary, [string, number]>(
    `SELECT e.wamid, 'inbound' AS direction, i.kind AS kind_or_status, i.received_at AS at
       FROM (SELECT DISTINCT wamid FROM events INDEXED BY events_by_wa_id WHERE wa_id IN (SELECT value FROM json_each(?1)) AND type = 'message.received') e
       JOIN inbound_messages i ON i.wamid = e.wamid
     UNION ALL
     SELECT e.wamid, 'outbound', o.status, o.first_seen_at
       FROM (SELECT DISTINCT wamid FROM events INDEXED BY events_by_wa_id WHERE wa_id IN (SELECT value FROM json_each(?1)) AND type = 'message.status') e
       JOIN outbound_messages o ON o.wamid = e.wamid
     ORDER BY at DESC LIMIT ?2`,
  );
  const known = db.prepare<{ n: number }, [string]>(
    `SELECT EXISTS (SELECT 1 FROM contacts WHERE wa_id IN (SELECT value FROM json_each(?1)))
         OR EXISTS (SELECT 1 FROM events INDEXED BY events_by_wa_id WHERE wa_id IN (SELECT value FROM json_each(?1)))
         OR EXISTS (SELECT 1 FROM tracked_messages WHERE recipient IN (SELECT value FROM json_each(?1))) AS n`,
  );
  const identities = identityStore(db);
  const bodies = db.prepare<{ key: number; text: Uint8Array }, [number, number, string]>(
    `SELECT inbox_id AS key, body AS text FROM inbox_bodies WHERE inbox_id > ?1 AND inbox_id <= ?2 AND instr(${stripped("CAST(body AS TEXT)")}, ?3) > 0`,
  );
  const envelopes = db.prepare<{ key: string; text: string }, [number, number, string]>(
    `SELECT id AS key, envelope AS text FROM events WHERE rowid > ?1 AND rowid <= ?2 AND instr(${stripped("envelope")}, ?3) > 0`,
  );
  return {
    /** The person an id belongs to: their current ids and every id they had (only this one when no change linked it). */
    identity: (id: string): Identity => identityOf(id, identities.ofPersons([id])),
    /** The person's contact, their rows under each id merged (domain/person-contact.ts). */
    get: (person: Identity) => mergeContacts(person.wa_id ?? person.ids[0]!, contacts.all(JSON.stringify(person.ids)), clocks.all(JSON.stringify(person.ids))),
    recent: (ids: readonly string[], limit: number) => recent.all(JSON.stringify(ids), limit),
    known: (ids: readonly string[]) => known.get(JSON.stringify(ids))!.n > 0,
    /** The business's own numbers as its events name them (admin/contacts.ts, ownNumbersAmong). */
    businessNumbers: (ids: readonly string[]) => ({
      phoneNumberIds: phoneNumberIds.all(JSON.stringify(ids)).map((r) => r.n),
      displayNumbers: displayNumbers.all(DISPLAY_NUMBERS_LOOKBACK).map((r) => r.n),
    }),
    /** The walks: each table by key range, up to the key its end() gives now. */
    walk: {
      bodies: { end: () => maxKey("SELECT max(inbox_id) n FROM inbox_bodies"), find: (from: number, to: number, digits: string) => bodies.all(from, to, digits) },
      envelopes: { end: () => maxKey("SELECT max(rowid) n FROM events"), find: (from: number, to: number, digits: string) => envelopes.all(from, to, digits) },
    },
    /** Runs `work` with everything it deletes or rewrites overwritten with zeros, freed pages too (secure_delete ON). */
    zeroing<T>(work: () => T): T {
      const before = db.query<{ secure_delete: number }, []>("PRAGMA secure_delete").get()!.secure_delete;
      db.run("PRAGMA secure_delete = ON");
      try {
        return work();
      } finally {
        db.run(`PRAGMA secure_delete = ${Math.trunc(before)}`);
      }
    },
    erase: (ids: readonly string[], mentioning: Mentioning, rewrite: Rewrite, now: number) => erase(db, ids, mentioning, rewrite, now),
    /**
     * Folds the WAL into the file and empties it; false when a reader or a checkpoint is
     * in the way. Without waiting: a pending TRUNCATE keeps every writer out.
     */
    truncateWal(): boolean {
      const wait = db.query<{ timeout: number }, []>("PRAGMA busy_timeout").get()!.timeout;
      db.run("PRAGMA busy_timeout = 0");
      try {
        return db.query<{ busy: number }, []>("PRAGMA wal_checkpoint(TRUNCATE)").get()!.busy === 0;
      } finally {
        db.run(`PRAGMA busy_timeout = ${Math.trunc(wait)}`);
      }
    },
  };

  function maxKey(sql: string): number {
    return db.query<{ n: number | null }, []>(sql).get()!.n ?? 0;
  }
}

/**
 * Deletes everything about one person, in the caller's transaction. Their wamids
 * first (messages to or from them), then the events about them or those wamids or
 * that mention them, their deliveries and dedup keys, their state, and the webhook
 * bodies: a body that held only them goes, one that held others too is rewritten
 * without them and marked, one they cannot be cut out of goes whole (with its events).
 */
function erase(db: Database, ids: readonly string[], mentioning: Mentioning, rewrite: Rewrite, now: number) {
  const person = JSON.stringify(ids);
  db.run("CREATE TEMP TABLE IF NOT EXISTS erase_wamids (wamid TEXT PRIMARY KEY)");
  db.run("CREATE TEMP TABLE IF NOT EXISTS erase_events (id TEXT PRIMARY KEY, inbox_id INTEGER)");
  db.run("DELETE FROM erase_wamids");
  db.run("DELETE FROM erase_events");
  // A message sent to a group is the business's and every member's: only their own statuses of it go (by event), never the message.
  db.run(
    `INSERT OR IGNORE INTO erase_wamids SELECT wamid FROM events INDEXED BY events_by_wa_id WHERE wa_id IN (SELECT value FROM json_each(?1)) AND wamid IS NOT NULL
       AND wamid NOT IN (SELECT wamid FROM events INDEXED BY events_by_wa_id WHERE wa_id IN (SELECT value FROM json_each(?1)) AND type = 'message.status'
                         AND envelope ->> '$.data.recipient_type' = 'group')
     UNION SELECT wamid FROM tracked_messages WHERE recipient IN (SELECT value FROM json_each(?1))`,
    [person],
  );
  db.run(
    `INSERT OR IGNORE INTO erase_events SELECT id, inbox_id FROM events INDEXED BY events_by_wa_id WHERE wa_id IN (SELECT value FROM json_each(?1))
     UNION SELECT e.id, e.inbox_id FROM erase_wamids w JOIN events e INDEXED BY events_by_wamid ON e.wamid = w.wamid`,
    [person],
  );
  const count = (sql: string, ...params: (string | number)[]) => db.run(sql, params).changes;
  const mentionedOnly = count("INSERT OR IGNORE INTO erase_events SELECT id, inbox_id FROM events WHERE id IN (SELECT value FROM json_each(?))", JSON.stringify(mentioning.events));
  // The webhooks behind those events and those whose body mentions them: what becomes of each body.
  const withEvents = new Set(db.query<{ inbox_id: number }, []>("SELECT DISTINCT inbox_id FROM erase_events WHERE inbox_id IS NOT NULL").all().map((r) => r.inbox_id));
  const bodyOf = db.prepare<{ body: Uint8Array }, [number]>("SELECT body FROM inbox_bodies WHERE inbox_id = ?");
  const fate = new Map<number, ReturnType<Rewrite>>();
  for (const inboxId of new Set([...withEvents, ...mentioning.webhooks])) {
    const row = bodyOf.get(inboxId);
    if (!row) continue;
    const rewritten = rewrite(new TextDecoder().decode(row.body));
    fate.set(inboxId, rewritten);
    // A body they cannot be cut out of goes whole, and with it every event made from it.
    if (rewritten === null) db.run("INSERT OR IGNORE INTO erase_events SELECT id, inbox_id FROM events WHERE inbox_id = ?", [inboxId]);
  }
  const counts = {
    events: 0,
    events_mentioning: mentionedOnly,
    deliveries: count("DELETE FROM deliveries WHERE event_id IN (SELECT id FROM erase_events)"),
    dedup_keys: count("DELETE FROM dedup_keys WHERE event_id IN (SELECT id FROM erase_events)"),
    statuses: count("DELETE FROM message_statuses WHERE wamid IN (SELECT wamid FROM erase_wamids) OR event_id IN (SELECT id FROM erase_events)"),
    messages:
      count("DELETE FROM inbound_messages WHERE wamid IN (SELECT wamid FROM erase_wamids)") + count("DELETE FROM outbound_messages WHERE wamid IN (SELECT wamid FROM erase_wamids)"),
    fallback:
      count("DELETE FROM fallback_sends WHERE wamid IN (SELECT wamid FROM erase_wamids)") +
      count("DELETE FROM tracked_timeline WHERE wamid IN (SELECT wamid FROM erase_wamids)") +
      count("DELETE FROM tracked_messages WHERE wamid IN (SELECT wamid FROM erase_wamids)"),
    // Their state under every id, and the link between their ids.
    state:
      count("DELETE FROM state_values WHERE subject = 'contact' AND subject_id IN (SELECT value FROM json_each(?))", person) +
      count("DELETE FROM state_history WHERE subject = 'contact' AND subject_id IN (SELECT value FROM json_each(?))", person) +
      count("DELETE FROM identities WHERE id IN (SELECT value FROM json_each(?))", person),
    contact: count("DELETE FROM contacts WHERE wa_id IN (SELECT value FROM json_each(?))", person),
    webhooks_deleted: 0,
    webhooks_rewritten: 0,
    webhooks_unreadable: 0,
  };
  // State history rows point at erased events by id only; they name templates and numbers, not people.
  counts.events = count("DELETE FROM events WHERE id IN (SELECT id FROM erase_events)");
  const hasEvents = db.prepare<{ n: number }, [number]>("SELECT EXISTS (SELECT 1 FROM events WHERE inbox_id = ?) n");
  for (const [inboxId, rewritten] of fate) {
    // Whole: they cannot be cut out. Emptied: every event it made was about them.
    if (rewritten === null || (withEvents.has(inboxId) && hasEvents.get(inboxId)!.n === 0)) {
      count("DELETE FROM job_progress WHERE inbox_id = ?", inboxId);
      count("DELETE FROM inbox_bodies WHERE inbox_id = ?", inboxId);
      count("DELETE FROM inbox WHERE id = ?", inboxId);
      counts.webhooks_deleted++;
      if (rewritten === null) counts.webhooks_unreadable++;
      continue;
    }
    if (rewritten.removed === 0) continue;
    db.run("UPDATE inbox_bodies SET body = ? WHERE inbox_id = ?", [new TextEncoder().encode(rewritten.body), inboxId]);
    db.run("UPDATE inbox SET rewritten_at = ? WHERE id = ?", [now, inboxId]);
    counts.webhooks_rewritten++;
  }
  return counts;
}
