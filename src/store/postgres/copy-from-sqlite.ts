/**
 * Copies a SQLite engine's file into an empty PostgreSQL engine's database
 * (`wa-webhookd migrate-storage`). Table by table in key order (referenced tables
 * first), in batches, each batch one INSERT … ON CONFLICT DO NOTHING: an interrupted
 * copy resumes after the last key the target holds, and a batch copied twice changes
 * nothing. Work in flight is copied as waiting (a lease of the SQLite daemon means
 * nothing here); sequences continue after the copied ids; every table's count is
 * checked on both sides at the end.
 *
 * Every table the PostgreSQL engine runs is copied; SQLite's own job leases (job_runs)
 * are counted and reported as left behind (the PostgreSQL engine keeps its own).
 */
import type { Database } from "bun:sqlite";
import type { SQL } from "bun";

type Row = Record<string, unknown>;

interface TableCopy {
  table: string;
  /** The primary key, in order; `text` columns compare by bytes on both sides. */
  key: { column: string; text: boolean }[];
  columns: string[];
  /** SQLite's row as PostgreSQL takes it (0/1 flags → booleans, leases dropped). */
  convert?: (row: Row) => Row;
  /** Has an identity sequence to move past the copied ids. */
  sequence?: boolean;
}

const int = (column: string) => ({ column, text: false });
const text = (column: string) => ({ column, text: true });
const flag = (v: unknown) => v === 1 || v === true;

export const COPIED_TABLES: readonly TableCopy[] = [
  {
    table: "inbox",
    key: [int("id")],
    columns: ["id", "received_at", "signature", "user_agent", "remote_addr", "forwarded_for", "parseable", "state", "attempts", "last_error", "processed_at", "rewritten_at"],
    // Leased by the SQLite daemon: waiting again here (its attempt stays counted).
    convert: (r) => ({ ...r, parseable: flag(r.parseable), state: r.state === "processing" ? "pending" : r.state, instance: "migrate-storage" }),
    sequence: true,
  },
  { table: "inbox_bodies", key: [int("inbox_id")], columns: ["inbox_id", "body"] },
  { table: "job_progress", key: [int("inbox_id")], columns: ["inbox_id", "progress"] },
  { table: "events", key: [text("id")], columns: ["id", "inbox_id", "type", "occurred_at", "received_at", "waba_id", "phone_number_id", "dedup_key", "wamid", "wa_id", "envelope"] },
  { table: "dedup_keys", key: [text("key")], columns: ["key", "event_id", "first_seen", "last_seen", "duplicates"] },
  {
    table: "deliveries",
    key: [int("id")],
    columns: ["id", "event_id", "hook", "state", "attempts", "next_attempt_at", "last_status", "last_error", "last_response", "created_at", "updated_at"],
    convert: (r) => ({ ...r, state: r.state === "delivering" ? "pending" : r.state }),
    sequence: true,
  },
  { table: "contacts", key: [text("wa_id")], columns: ["wa_id", "profile_name", "last_seen_at", "marketing_opt_out", "updated_at"], convert: (r) => ({ ...r, marketing_opt_out: flag(r.marketing_opt_out) }) },
  { table: "identities", key: [text("id")], columns: ["id", "person", "kind", "current_at"] },
  { table: "inbound_messages", key: [text("wamid")], columns: ["wamid", "event_id", "phone_number_id", "sender", "kind", "sent_at", "received_at"] },
  {
    table: "outbound_messages",
    key: [text("wamid")],
    columns: ["wamid", "phone_number_id", "recipient_id", "status", "status_at", "errors", "pricing", "biz_opaque_callback_data", "first_seen_at", "updated_at"],
  },
  { table: "message_statuses", key: [int("id")], columns: ["id", "wamid", "status", "status_at", "errors", "pricing", "event_id", "received_at"], sequence: true },
  { table: "templates", key: [text("template_id")], columns: ["template_id", "name", "language", "status", "quality", "category", "updated_at"] },
  { table: "state_values", key: [text("subject"), text("subject_id"), text("attribute")], columns: ["subject", "subject_id", "attribute", "value", "at", "event_id"] },
  {
    table: "state_history",
    key: [text("subject"), text("subject_id"), text("attribute"), text("event_id")],
    columns: ["subject", "subject_id", "attribute", "event_id", "value", "at", "applied", "received_at"],
    convert: (r) => ({ ...r, applied: flag(r.applied) }),
  },
  { table: "stats_by_minute", key: [text("kind"), int("minute"), text("key")], columns: ["kind", "minute", "key", "n"] },
  {
    table: "tracked_messages",
    key: [text("wamid")],
    columns: ["wamid", "recipient", "text", "category", "stale_after_ms", "not_after_ms", "fallback", "sent_at", "registered_at", "delivered_at", "deadline", "expires_at", "state", "reason", "error_code", "created_at", "updated_at", "phone_number_id"],
  },
  { table: "tracked_timeline", key: [text("wamid"), int("seq")], columns: ["wamid", "seq", "state", "at", "detail"] },
  {
    table: "fallback_sends",
    key: [text("wamid")],
    columns: ["wamid", "state", "recipient", "text", "reason", "error_code", "category", "attempts", "next_attempt_at", "lease_token", "lease_until", "provider_status", "provider_response", "last_error", "created_at", "sent_at", "updated_at"],
    // An SMS the SQLite daemon was sending when it stopped: taken again at once, as a run that stopped mid-request (same Idempotency-Key).
    convert: (r) => ({ ...r, lease_token: null, lease_until: r.state === "sending" ? 0 : null }),
  },
  {
    table: "alerts",
    key: [int("id")],
    columns: ["id", "kind", "dedup_key", "severity", "title", "text", "data", "state", "attempts", "next_attempt_at", "lease_token", "lease_until", "last_status", "last_error", "created_at", "sent_at", "updated_at"],
    convert: (r) => ({ ...r, lease_token: null, lease_until: r.state === "sending" ? 0 : null }),
    sequence: true,
  },
];

/** The SQLite engine's tables with no counterpart here: counted, not copied (job leases; the stale job's hold starts over). */
export const LEFT_BEHIND = ["job_runs"] as const;

/** Rows per INSERT: 14 columns × 2,000 stays under PostgreSQL's 65,535 parameters. */
const BATCH = 2_000;

export interface CopyProgress {
  table: string;
  copied: number;
}

export interface CopyReport {
  tables: { table: string; source: number; target: number }[];
  leftBehind: { table: string; rows: number }[];
}

export function copyFromSqlite(db: Database, sql: SQL) {
  return {
    /** Copies every table (resuming where the target's keys end), then moves the sequences on. */
    async copy(onProgress: (p: CopyProgress) => void): Promise<void> {
      for (const t of COPIED_TABLES) {
        let after = await lastKey(sql, t);
        let copied = 0;
        for (;;) {
          const rows = readAfter(db, t, after);
          if (rows.length === 0) break;
          const converted = rows.map((r) => (t.convert ? t.convert(r) : r));
          const columns = Object.keys(converted[0]!);
          await sql`INSERT INTO ${sql(t.table)} ${sql(converted, ...columns)} ON CONFLICT DO NOTHING`;
          copied += rows.length;
          after = t.key.map((k) => rows.at(-1)![k.column]);
          onProgress({ table: t.table, copied });
        }
        if (t.sequence) await sql`SELECT setval(pg_get_serial_sequence(${t.table}, 'id'), greatest((SELECT max(id) FROM ${sql(t.table)}), 1))`;
      }
    },
    /** Rows of each copied table on both sides, and the rows left behind. */
    async report(): Promise<CopyReport> {
      const tables = [];
      for (const t of COPIED_TABLES) {
        const [{ n }] = await sql`SELECT count(*)::float8 AS n FROM ${sql(t.table)}`;
        tables.push({ table: t.table, source: countOf(db, t.table), target: n as number });
      }
      return { tables, leftBehind: LEFT_BEHIND.map((table) => ({ table, rows: countOf(db, table) })) };
    },
  };
}

const countOf = (db: Database, table: string) => db.query<{ n: number }, []>(`SELECT count(*) AS n FROM ${table}`).get()!.n;

/** The target's last key in the source's order (bytes for text, as SQLite's BINARY), or null when empty. */
async function lastKey(sql: SQL, t: TableCopy): Promise<unknown[] | null> {
  const order = t.key.map((k) => `${k.column}${k.text ? ' COLLATE "C"' : ""} DESC`).join(", ");
  const [row] = await sql.unsafe(`SELECT ${t.key.map((k) => (k.text ? k.column : `${k.column}::float8 AS ${k.column}`)).join(", ")} FROM ${t.table} ORDER BY ${order} LIMIT 1`);
  return row ? t.key.map((k) => row[k.column]) : null;
}

function readAfter(db: Database, t: TableCopy, after: unknown[] | null): Row[] {
  const key = t.key.map((k) => k.column).join(", ");
  const where = after === null ? "" : `WHERE (${key}) > (${after.map(() => "?").join(", ")})`;
  return db.query<Row, never[]>(`SELECT ${t.columns.join(", ")} FROM ${t.table} ${where} ORDER BY ${key} LIMIT ${BATCH}`).all(...((after ?? []) as never[]));
}
