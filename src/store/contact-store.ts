/**
 * A person, as the admin API shows them (GET /v1/contacts/{wa_id}) and erases them
 * (DELETE): every row about them, found through their events (events_by_wa_id,
 * migrations/0008) and the messages those name.
 */
import type { Database } from "bun:sqlite";

export interface ContactRow {
  wa_id: string;
  profile_name: string | null;
  last_seen_at: number | null;
  marketing_opt_out: number;
  updated_at: number;
}

export interface MessageSummary {
  wamid: string;
  direction: "inbound" | "outbound";
  kind_or_status: string;
  at: number;
}

export function contactStore(db: Database) {
  const contact = db.prepare<ContactRow, [string]>("SELECT * FROM contacts WHERE wa_id = ?");
  // Their messages through their events (events_by_wa_id): no index on the message tables' hot path.
  const recent = db.prepare<MessageSummary, [string, number]>(
    `SELECT e.wamid, 'inbound' AS direction, i.kind AS kind_or_status, i.received_at AS at
       FROM (SELECT DISTINCT wamid FROM events INDEXED BY events_by_wa_id WHERE wa_id = ?1 AND type = 'message.received') e
       JOIN inbound_messages i ON i.wamid = e.wamid
     UNION ALL
     SELECT e.wamid, 'outbound', o.status, o.first_seen_at
       FROM (SELECT DISTINCT wamid FROM events INDEXED BY events_by_wa_id WHERE wa_id = ?1 AND type = 'message.status') e
       JOIN outbound_messages o ON o.wamid = e.wamid
     ORDER BY at DESC LIMIT ?2`,
  );
  const known = db.prepare<{ n: number }, [string]>(
    `SELECT EXISTS (SELECT 1 FROM contacts WHERE wa_id = ?1) OR EXISTS (SELECT 1 FROM events WHERE wa_id = ?1)
         OR EXISTS (SELECT 1 FROM tracked_messages WHERE recipient = ?1) AS n`,
  );
  return {
    get: (waId: string) => contact.get(waId),
    recent: (waId: string, limit: number) => recent.all(waId, limit),
    known: (waId: string) => known.get(waId)!.n > 0,
    erase: (waId: string, rewrite: (body: string) => { body: string; removed: number } | null, now: number) => erase(db, waId, rewrite, now),
  };
}

/**
 * Deletes everything about one person, in the caller's transaction. Their wamids
 * first (messages to or from them), then the events about them or those wamids, their
 * deliveries and dedup keys, their state, and the webhook bodies: a body that held
 * only them goes, one that held others too is rewritten without them and marked.
 */
function erase(db: Database, waId: string, rewrite: (body: string) => { body: string; removed: number } | null, now: number) {
  db.run("CREATE TEMP TABLE IF NOT EXISTS erase_wamids (wamid TEXT PRIMARY KEY)");
  db.run("CREATE TEMP TABLE IF NOT EXISTS erase_events (id TEXT PRIMARY KEY, inbox_id INTEGER)");
  db.run("DELETE FROM erase_wamids");
  db.run("DELETE FROM erase_events");
  db.run(
    `INSERT OR IGNORE INTO erase_wamids SELECT wamid FROM events INDEXED BY events_by_wa_id WHERE wa_id = ?1 AND wamid IS NOT NULL
     UNION SELECT wamid FROM tracked_messages WHERE recipient = ?1`,
    [waId],
  );
  db.run(
    `INSERT OR IGNORE INTO erase_events SELECT id, inbox_id FROM events WHERE wa_id = ?1
     UNION SELECT e.id, e.inbox_id FROM erase_wamids w JOIN events e INDEXED BY events_by_wamid ON e.wamid = w.wamid`,
    [waId],
  );
  const count = (sql: string, ...params: (string | number)[]) => db.run(sql, params).changes;
  const counts = {
    events: 0,
    deliveries: count("DELETE FROM deliveries WHERE event_id IN (SELECT id FROM erase_events)"),
    dedup_keys: count("DELETE FROM dedup_keys WHERE event_id IN (SELECT id FROM erase_events)"),
    statuses: count("DELETE FROM message_statuses WHERE wamid IN (SELECT wamid FROM erase_wamids)"),
    messages:
      count("DELETE FROM inbound_messages WHERE wamid IN (SELECT wamid FROM erase_wamids)") + count("DELETE FROM outbound_messages WHERE wamid IN (SELECT wamid FROM erase_wamids)"),
    fallback:
      count("DELETE FROM fallback_sends WHERE wamid IN (SELECT wamid FROM erase_wamids)") +
      count("DELETE FROM tracked_timeline WHERE wamid IN (SELECT wamid FROM erase_wamids)") +
      count("DELETE FROM tracked_messages WHERE wamid IN (SELECT wamid FROM erase_wamids)"),
    state: count("DELETE FROM state_values WHERE subject = 'contact' AND subject_id = ?", waId) + count("DELETE FROM state_history WHERE subject = 'contact' AND subject_id = ?", waId),
    contact: count("DELETE FROM contacts WHERE wa_id = ?", waId),
    webhooks_deleted: 0,
    webhooks_rewritten: 0,
  };
  // State history rows point at erased events by id only; they name templates and numbers, not people.
  const inboxIds = db.query<{ inbox_id: number }, []>("SELECT DISTINCT inbox_id FROM erase_events WHERE inbox_id IS NOT NULL").all().map((r) => r.inbox_id);
  counts.events = count("DELETE FROM events WHERE id IN (SELECT id FROM erase_events)");
  for (const inboxId of inboxIds) {
    const stillUsed = db.query<{ n: number }, [number]>("SELECT count(*) n FROM events WHERE inbox_id = ?").get(inboxId)!.n > 0;
    if (!stillUsed) {
      count("DELETE FROM job_progress WHERE inbox_id = ?", inboxId);
      count("DELETE FROM inbox_bodies WHERE inbox_id = ?", inboxId);
      count("DELETE FROM inbox WHERE id = ?", inboxId);
      counts.webhooks_deleted++;
      continue;
    }
    const row = db.query<{ body: Uint8Array }, [number]>("SELECT body FROM inbox_bodies WHERE inbox_id = ?").get(inboxId)!;
    const rewritten = rewrite(new TextDecoder().decode(row.body));
    if (rewritten === null || rewritten.removed === 0) continue;
    db.run("UPDATE inbox_bodies SET body = ? WHERE inbox_id = ?", [new TextEncoder().encode(rewritten.body), inboxId]);
    db.run("UPDATE inbox SET rewritten_at = ? WHERE id = ?", [now, inboxId]);
    counts.webhooks_rewritten++;
  }
  // Webhooks the worker gave up on made no events; a dead body that mentions them is rewritten too.
  const dead = db
    .query<{ id: number; body: Uint8Array }, [Uint8Array]>("SELECT i.id, b.body FROM inbox i INDEXED BY inbox_queue JOIN inbox_bodies b ON b.inbox_id = i.id WHERE i.state = 'dead' AND instr(b.body, ?) > 0")
    .all(new TextEncoder().encode(waId));
  for (const row of dead) {
    const rewritten = rewrite(new TextDecoder().decode(row.body));
    if (rewritten === null || rewritten.removed === 0) continue;
    db.run("UPDATE inbox_bodies SET body = ? WHERE inbox_id = ?", [new TextEncoder().encode(rewritten.body), row.id]);
    db.run("UPDATE inbox SET rewritten_at = ? WHERE id = ?", [now, row.id]);
    counts.webhooks_rewritten++;
  }
  return counts;
}
