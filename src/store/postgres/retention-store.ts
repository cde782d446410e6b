/**
 * Deleting what is older than `storage.retention` on the PostgreSQL engine, one bounded
 * batch per statement, each its own short transaction: row locks are held for one
 * batch, never for the run, and instances keep claiming and writing meanwhile. Batched
 * deletes were chosen over time partitions: partitions dropped whole cost nothing to
 * delete, but every unique key (dedup keys, event ids, wamids) would have to carry the
 * partition's time, and rows kept past their age (an event with a dead delivery, a
 * pending webhook) could not stay behind in a dropped partition. Dead rows left by the
 * deletes are autovacuum's (docs/deploy.md has the settings that matter).
 *
 * Kept whatever their age, as on SQLite: events with deliveries pending or dead, inbox
 * rows pending, dead or still referenced by an event, current state (state_values,
 * contacts, templates). Tables are walked by key (`after` → next), one pass per run;
 * the inbox's only as far as its rows are old enough.
 */
import type { SQL } from "bun";

export type Key = (string | number)[];

export interface Walk {
  deleted: number;
  /** null: the walk reached the end of the table. */
  next: Key | null;
}

interface Walked {
  table: string;
  key: string[];
  /** The row's age, unix ms. */
  age: string;
  /** SQL true for a row that stays whatever its age. */
  keep: string;
  /**
   * The key grows with the age (inbox ids are taken in arrival order): the walk ends at the
   * first page that holds a row younger than the cut-off instead of reading the rest of
   * the table, which is younger still. A row an instance with a clock behind the others
   * stored past that point goes at a later run.
   */
  ordered?: true;
}

/** A message whose SMS fallback is still open (SQLite's store/retention-store.ts keeps the same). */
const OPEN_TRACKED = "('tracked', 'fallback_pending', 'sending', 'unknown')";

/** Fixed definitions, never built from input. Children go by ON DELETE CASCADE (inbox_bodies, job_progress) or first (CHILDREN). */
const WALKS = {
  inbox: { table: "inbox", key: ["id"], age: "received_at", keep: "t.state <> 'done' OR EXISTS (SELECT 1 FROM events e WHERE e.inbox_id = t.id)", ordered: true },
  dedupKeys: { table: "dedup_keys", key: ["key"], age: "last_seen", keep: "false" },
  outbound: { table: "outbound_messages", key: ["wamid"], age: "updated_at", keep: `EXISTS (SELECT 1 FROM tracked_messages m WHERE m.wamid = t.wamid AND m.state IN ${OPEN_TRACKED})` },
  tracked: { table: "tracked_messages", key: ["wamid"], age: "updated_at", keep: `t.state IN ${OPEN_TRACKED}` },
  inbound: { table: "inbound_messages", key: ["wamid"], age: "received_at", keep: "false" },
  history: { table: "state_history", key: ["subject", "subject_id", "attribute", "event_id"], age: "received_at", keep: "false" },
} satisfies Record<string, Walked>;

export type WalkName = keyof typeof WALKS;

export const START: Record<WalkName, Key> = { inbox: [0], dedupKeys: [""], outbound: [""], tracked: [""], inbound: [""], history: ["", "", "", ""] };

/** Rows that go with a doomed parent, by wamid: a message's statuses; a tracked message's moves and SMS. */
const CHILDREN: Partial<Record<WalkName, string[]>> = {
  outbound: ["message_statuses"],
  tracked: ["tracked_timeline", "fallback_sends"],
};

export function postgresRetention(sql: SQL) {
  /** One page of a walk: its rows older than `cutoff` and not kept are deleted (an outbound message's statuses with it). */
  async function walk(name: WalkName, cutoff: number, after: Key, limit: number): Promise<Walk> {
    const w: Walked = WALKS[name];
    const key = w.key.join(", ");
    const params = after.map((_, i) => `$${i + 1}`).join(", ");
    const n = after.length;
    const children = (CHILDREN[name] ?? []).map((table, i) => `, child${i} AS (DELETE FROM ${table} c USING doomed WHERE c.wamid = doomed.wamid)`).join("");
    const [row] = await sql.unsafe(
      `WITH page AS (
         SELECT ${w.key.map((k) => `t.${k}`).join(", ")}, t.${w.age} AS age, (${w.keep}) AS keep FROM ${w.table} t
         WHERE (${w.key.map((k) => `t.${k}`).join(", ")}) > (${params}) ORDER BY ${w.key.map((k) => `t.${k}`).join(", ")} LIMIT $${n + 2}
       ), doomed AS (
         SELECT ${key} FROM page WHERE age < $${n + 1} AND NOT keep
       )${children}, gone AS (
         DELETE FROM ${w.table} t USING doomed d WHERE ${w.key.map((k) => `t.${k} = d.${k}`).join(" AND ")} RETURNING 1
       )
       SELECT (SELECT count(*) FROM gone)::int AS deleted, (SELECT count(*) FROM page)::int AS seen,
         (SELECT count(*) FROM page WHERE age >= $${n + 1})::int AS young,
         (SELECT json_build_array(${key}) FROM page ORDER BY ${key} DESC LIMIT 1) AS last`,
      [...after, cutoff, limit],
    );
    const last = typeof row.last === "string" ? (JSON.parse(row.last) as Key) : (row.last as Key | null);
    const end = row.seen < limit || last === null || (w.ordered === true && row.young > 0);
    return { deleted: row.deleted, next: end ? null : last };
  }

  return {
    walk,
    /** Finished deliveries of events older than the cut-off (event ids grow with time). */
    deliveries: async (eventIdFloor: string, limit: number) =>
      (await sql`
        DELETE FROM deliveries WHERE id IN (
          SELECT id FROM deliveries WHERE event_id < ${eventIdFloor} AND state IN ('done', 'disabled', 'cancelled') LIMIT ${limit})`).count,
    /** Events older than the cut-off with no delivery left. */
    events: async (eventIdFloor: string, limit: number) =>
      (await sql`
        DELETE FROM events WHERE id IN (
          SELECT id FROM events e WHERE id < ${eventIdFloor} AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) ORDER BY id LIMIT ${limit})`).count,
    /** Alerts older than the cut-off that are done with (sent, dead, or only recorded). */
    alerts: async (cutoff: number, limit: number) =>
      (await sql`
        DELETE FROM alerts WHERE id IN (
          SELECT id FROM alerts WHERE created_at < ${cutoff} AND state IN ('sent', 'dead', 'recorded') ORDER BY created_at LIMIT ${limit})`).count,
    statsBefore: async (minute: number) => (await sql`DELETE FROM stats_by_minute WHERE minute < ${minute}`).count,
  };
}
