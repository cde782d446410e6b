/**
 * Deleting what is older than `storage.retention`, one bounded batch per call (the
 * caller commits each and gives the writer thread back to ingestion between them).
 * Cancelled deliveries (orphans the operator gave up) are finished like done ones.
 * Tables without a time index are walked by key (`after` → next cursor): one pass
 * over the table per run, never a rescan per batch. Kept whatever their age: events
 * with deliveries still pending or dead (an operator may retry them), inbox rows
 * that are pending, dead (reprocess) or still referenced by an event, tracked
 * messages whose fallback is not settled, current state (state_values, contacts,
 * templates).
 */
import type { Database, Statement } from "bun:sqlite";
import { eventIdFloor } from "../util/ids";

/** Tracked states still waiting on something: never pruned. */
const OPEN_TRACKED = "('tracked', 'fallback_pending', 'sending', 'unknown')";

export interface Walk<K> {
  deleted: number;
  /** null: the walk reached the end of the table. */
  next: K | null;
}

export type Key = (string | number)[];
/** A page of a key-walked table: each row's key, its age (`at`), and whether it must stay (`keep`, decided in SQL). */
type PageRow = { at: number; keep: number } & Record<string, string | number>;

/**
 * One page of a walk by key: rows older than `cutoff` and not kept are deleted (each
 * statement of `deletes` run with the row's key, children first). `byTime`: keys grow
 * with time, so the first young row ends the walk.
 */
function walker(page: Statement<PageRow, (string | number)[]>, keyOf: (r: PageRow) => Key, deletes: Statement[], byTime = false) {
  return (cutoff: number, after: Key, limit: number): Walk<Key> => {
    const rows = page.all(...after, limit);
    let deleted = 0;
    for (const row of rows) {
      if (row.at >= cutoff || row.keep) continue;
      for (const q of deletes) q.run(...keyOf(row));
      deleted++;
    }
    const ended = rows.length < limit || (byTime && rows.some((r) => r.at >= cutoff));
    return { deleted, next: ended ? null : keyOf(rows.at(-1)!) };
  };
}

export function retentionStore(db: Database) {
  const deliveries = db.prepare<unknown, [string, number]>(
    `DELETE FROM deliveries WHERE id IN (SELECT d.id FROM events e JOIN deliveries d ON d.event_id = e.id
       WHERE e.id < ?1 AND d.state IN ('done', 'disabled', 'cancelled') LIMIT ?2)`,
  );
  const events = db.prepare<unknown, [string, number]>(
    `DELETE FROM events WHERE id IN (SELECT id FROM events e WHERE id < ?1
       AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) ORDER BY id LIMIT ?2)`,
  );
  const page = (sql: string) => db.prepare<PageRow, (string | number)[]>(sql);
  const deletes = (...sql: string[]) => sql.map((q) => db.prepare(q));
  const byWamid = (r: PageRow) => [r.wamid as string];
  const alerts = db.prepare<unknown, [number, number]>(
    "DELETE FROM alerts WHERE id IN (SELECT id FROM alerts WHERE created_at < ?1 AND state IN ('sent', 'dead', 'recorded') ORDER BY created_at LIMIT ?2)",
  );

  return {
    deliveries: (cutoff: number, limit: number) => deliveries.run(eventIdFloor(cutoff), limit).changes,
    events: (cutoff: number, limit: number) => events.run(eventIdFloor(cutoff), limit).changes,
    /** Processed rows no event points at any more (pending and dead ones stay: reprocess). */
    inbox: walker(
      page(`SELECT id, received_at AS at, state <> 'done' OR EXISTS (SELECT 1 FROM events e WHERE e.inbox_id = inbox.id) AS keep
            FROM inbox WHERE id > ? ORDER BY id LIMIT ?`),
      (r) => [r.id as number],
      deletes("DELETE FROM inbox_bodies WHERE inbox_id = ?", "DELETE FROM job_progress WHERE inbox_id = ?", "DELETE FROM inbox WHERE id = ?"),
      true,
    ),
    dedupKeys: walker(
      page("SELECT key, last_seen AS at, 0 AS keep FROM dedup_keys WHERE key > ? ORDER BY key LIMIT ?"),
      (r) => [r.key as string],
      deletes("DELETE FROM dedup_keys WHERE key = ?"),
    ),
    /** Outbound messages and their statuses, unless a fallback for them is still open. */
    outbound: walker(
      page(`SELECT o.wamid, o.updated_at AS at, EXISTS (SELECT 1 FROM tracked_messages t WHERE t.wamid = o.wamid AND t.state IN ${OPEN_TRACKED}) AS keep
            FROM outbound_messages o WHERE o.wamid > ? ORDER BY o.wamid LIMIT ?`),
      byWamid,
      deletes("DELETE FROM message_statuses WHERE wamid = ?", "DELETE FROM outbound_messages WHERE wamid = ?"),
    ),
    tracked: walker(
      page(`SELECT wamid, updated_at AS at, state IN ${OPEN_TRACKED} AS keep FROM tracked_messages WHERE wamid > ? ORDER BY wamid LIMIT ?`),
      byWamid,
      deletes("DELETE FROM tracked_timeline WHERE wamid = ?", "DELETE FROM fallback_sends WHERE wamid = ?", "DELETE FROM tracked_messages WHERE wamid = ?"),
    ),
    inbound: walker(
      page("SELECT wamid, received_at AS at, 0 AS keep FROM inbound_messages WHERE wamid > ? ORDER BY wamid LIMIT ?"),
      byWamid,
      deletes("DELETE FROM inbound_messages WHERE wamid = ?"),
    ),
    history: walker(
      page(`SELECT subject, subject_id, attribute, event_id, received_at AS at, 0 AS keep FROM state_history
            WHERE (subject, subject_id, attribute, event_id) > (?, ?, ?, ?) ORDER BY subject, subject_id, attribute, event_id LIMIT ?`),
      (r) => [r.subject as string, r.subject_id as string, r.attribute as string, r.event_id as string],
      deletes("DELETE FROM state_history WHERE subject = ? AND subject_id = ? AND attribute = ? AND event_id = ?"),
    ),
    alerts: (cutoff: number, limit: number) => alerts.run(cutoff, limit).changes,
    /** Gives up to `pages` free pages back to the file system; 0 when the file was made without auto_vacuum. */
    vacuumStep(pages: number): number {
      if (db.query<{ auto_vacuum: number }, []>("PRAGMA auto_vacuum").get()!.auto_vacuum !== 2) return 0;
      const before = freePages();
      db.run(`PRAGMA incremental_vacuum(${Math.trunc(pages)})`);
      return before - freePages();
    },
    freePages,
  };

  function freePages() {
    return db.query<{ freelist_count: number }, []>("PRAGMA freelist_count").get()!.freelist_count;
  }
}
