/**
 * Deleting what is older than `storage.retention`, one bounded batch per call (the
 * caller commits each and gives the writer thread back to ingestion between them).
 * Tables without a time index are walked by key (`after` → next cursor): one pass
 * over the table per run, never a rescan per batch. Kept whatever their age: events
 * with deliveries still pending or dead (an operator may retry them), inbox rows
 * that are pending, dead (reprocess) or still referenced by an event, tracked
 * messages whose fallback is not settled, current state (state_values, contacts,
 * templates).
 */
import type { Database } from "bun:sqlite";
import { ulid } from "../util/ids";

/** Tracked states still waiting on something: never pruned. */
const OPEN_TRACKED = "('tracked', 'fallback_pending', 'sending', 'unknown')";

export interface Walk<K> {
  deleted: number;
  /** null: the walk reached the end of the table. */
  next: K | null;
}

/** The smallest event id made at `ms` or later: ids are `evt_` + a ULID, time first. */
export const eventIdFloor = (ms: number) => `evt_${ulid(ms, new Uint8Array(10))}`;

export function retentionStore(db: Database) {
  const deliveries = db.prepare<unknown, [string, number]>(
    `DELETE FROM deliveries WHERE id IN (SELECT d.id FROM events e JOIN deliveries d ON d.event_id = e.id
       WHERE e.id < ?1 AND d.state IN ('done', 'disabled') LIMIT ?2)`,
  );
  const events = db.prepare<unknown, [string, number]>(
    `DELETE FROM events WHERE id IN (SELECT id FROM events e WHERE id < ?1
       AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) ORDER BY id LIMIT ?2)`,
  );
  const inboxPage = db.prepare<{ id: number; received_at: number; state: string }, [number, number]>("SELECT id, received_at, state FROM inbox WHERE id > ? ORDER BY id LIMIT ?");
  const inboxReferenced = db.prepare<{ one: number }, [number]>("SELECT 1 AS one FROM events WHERE inbox_id = ? LIMIT 1");
  const inboxDelete = [
    db.prepare<unknown, [number]>("DELETE FROM inbox_bodies WHERE inbox_id = ?"),
    db.prepare<unknown, [number]>("DELETE FROM job_progress WHERE inbox_id = ?"),
    db.prepare<unknown, [number]>("DELETE FROM inbox WHERE id = ?"),
  ];
  const dedupPage = db.prepare<{ key: string; last_seen: number }, [string, number]>("SELECT key, last_seen FROM dedup_keys WHERE key > ? ORDER BY key LIMIT ?");
  const dedupDelete = db.prepare<unknown, [string]>("DELETE FROM dedup_keys WHERE key = ?");
  const outboundPage = db.prepare<{ wamid: string; updated_at: number; open: number }, [string, number]>(
    `SELECT o.wamid, o.updated_at, EXISTS (SELECT 1 FROM tracked_messages t WHERE t.wamid = o.wamid AND t.state IN ${OPEN_TRACKED}) AS open
     FROM outbound_messages o WHERE o.wamid > ? ORDER BY o.wamid LIMIT ?`,
  );
  const outboundDelete = [
    db.prepare<unknown, [string]>("DELETE FROM message_statuses WHERE wamid = ?"),
    db.prepare<unknown, [string]>("DELETE FROM outbound_messages WHERE wamid = ?"),
  ];
  const trackedPage = db.prepare<{ wamid: string; updated_at: number; state: string }, [string, number]>("SELECT wamid, updated_at, state FROM tracked_messages WHERE wamid > ? ORDER BY wamid LIMIT ?");
  const trackedDelete = [
    db.prepare<unknown, [string]>("DELETE FROM tracked_timeline WHERE wamid = ?"),
    db.prepare<unknown, [string]>("DELETE FROM fallback_sends WHERE wamid = ?"),
    db.prepare<unknown, [string]>("DELETE FROM tracked_messages WHERE wamid = ?"),
  ];
  const inboundPage = db.prepare<{ wamid: string; received_at: number }, [string, number]>("SELECT wamid, received_at FROM inbound_messages WHERE wamid > ? ORDER BY wamid LIMIT ?");
  const inboundDelete = db.prepare<unknown, [string]>("DELETE FROM inbound_messages WHERE wamid = ?");
  const historyPage = db.prepare<{ subject: string; subject_id: string; attribute: string; event_id: string; received_at: number }, [string, string, string, string, number]>(
    `SELECT subject, subject_id, attribute, event_id, received_at FROM state_history
     WHERE (subject, subject_id, attribute, event_id) > (?1, ?2, ?3, ?4) ORDER BY subject, subject_id, attribute, event_id LIMIT ?5`,
  );
  const historyDelete = db.prepare<unknown, [string, string, string, string]>("DELETE FROM state_history WHERE subject = ? AND subject_id = ? AND attribute = ? AND event_id = ?");
  const alerts = db.prepare<unknown, [number, number]>(
    "DELETE FROM alerts WHERE id IN (SELECT id FROM alerts WHERE created_at < ?1 AND state IN ('sent', 'dead', 'recorded') ORDER BY created_at LIMIT ?2)",
  );

  return {
    deliveries: (cutoff: number, limit: number) => deliveries.run(eventIdFloor(cutoff), limit).changes,
    events: (cutoff: number, limit: number) => events.run(eventIdFloor(cutoff), limit).changes,
    inbox(cutoff: number, after: number, limit: number): Walk<number> {
      const page = inboxPage.all(after, limit);
      let deleted = 0;
      for (const row of page) {
        if (row.received_at >= cutoff || row.state !== "done" || inboxReferenced.get(row.id)) continue;
        for (const q of inboxDelete) q.run(row.id);
        deleted++;
      }
      // Ids grow with time: past the first young row, the rest is younger still.
      const ended = page.length < limit || page.some((r) => r.received_at >= cutoff);
      return { deleted, next: ended ? null : page.at(-1)!.id };
    },
    dedupKeys(cutoff: number, after: string, limit: number): Walk<string> {
      const page = dedupPage.all(after, limit);
      let deleted = 0;
      for (const row of page) if (row.last_seen < cutoff) deleted += dedupDelete.run(row.key).changes;
      return { deleted, next: page.length < limit ? null : page.at(-1)!.key };
    },
    outbound(cutoff: number, after: string, limit: number): Walk<string> {
      const page = outboundPage.all(after, limit);
      let deleted = 0;
      for (const row of page) {
        if (row.updated_at >= cutoff || row.open) continue;
        for (const q of outboundDelete) q.run(row.wamid);
        deleted++;
      }
      return { deleted, next: page.length < limit ? null : page.at(-1)!.wamid };
    },
    tracked(cutoff: number, after: string, limit: number): Walk<string> {
      const page = trackedPage.all(after, limit);
      let deleted = 0;
      for (const row of page) {
        if (row.updated_at >= cutoff || OPEN_TRACKED.includes(`'${row.state}'`)) continue;
        for (const q of trackedDelete) q.run(row.wamid);
        deleted++;
      }
      return { deleted, next: page.length < limit ? null : page.at(-1)!.wamid };
    },
    inbound(cutoff: number, after: string, limit: number): Walk<string> {
      const page = inboundPage.all(after, limit);
      let deleted = 0;
      for (const row of page) if (row.received_at < cutoff) deleted += inboundDelete.run(row.wamid).changes;
      return { deleted, next: page.length < limit ? null : page.at(-1)!.wamid };
    },
    history(cutoff: number, after: readonly [string, string, string, string], limit: number): Walk<readonly [string, string, string, string]> {
      const page = historyPage.all(...after, limit);
      let deleted = 0;
      for (const r of page) if (r.received_at < cutoff) deleted += historyDelete.run(r.subject, r.subject_id, r.attribute, r.event_id).changes;
      const last = page.at(-1);
      return { deleted, next: page.length < limit || !last ? null : [last.subject, last.subject_id, last.attribute, last.event_id] };
    },
    alerts: (cutoff: number, limit: number) => alerts.run(cutoff, limit).changes,
    /** Gives up to `pages` free pages back to the file system; 0 when the file was made without auto_vacuum. */
    vacuumStep(pages: number): number {
      if (db.query<{ auto_vacuum: number }, []>("PRAGMA auto_vacuum").get()!.auto_vacuum !== 2) return 0;
      const before = db.query<{ freelist_count: number }, []>("PRAGMA freelist_count").get()!.freelist_count;
      db.run(`PRAGMA incremental_vacuum(${Math.trunc(pages)})`);
      return before - db.query<{ freelist_count: number }, []>("PRAGMA freelist_count").get()!.freelist_count;
    },
    freePages: () => db.query<{ freelist_count: number }, []>("PRAGMA freelist_count").get()!.freelist_count,
  };
}
