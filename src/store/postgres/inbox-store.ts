/**
 * The PostgreSQL engine's inbox (store/types.ts InboxStore): a batch of webhooks from
 * ingest/inbox.ts's group commit is one INSERT per table, one COMMIT (synchronous_commit
 * on, set per connection by connect.ts). Columns go in as arrays (`unnest`), so the
 * statement has a fixed number of parameters however many rows (PostgreSQL caps one
 * statement at 65,535). If the connection drops before COMMIT is answered, the rows may
 * or may not be stored: the request gets a 503, Meta retries, and processing's dedup
 * keys make the copy one event.
 */
import type { SQL } from "bun";
import type { HealthStore, InboxRecord, InboxStore, Readiness } from "../types";
import { isJsonBytes } from "../../util/json";
import { isStorageFailure, toStorageError } from "../errors";
import { INBOX_CHANNEL } from "./wakeups";

export function postgresInbox(sql: SQL, instance: string): InboxStore & HealthStore {
  return {
    // One statement, so one implicit transaction: ids are drawn first, in order, so each
    // request learns its own row's id whatever order the rows are written in.
    async appendBatch(records: readonly InboxRecord[]): Promise<number[]> {
      const col = <T>(f: (r: InboxRecord) => T, type: string) => sql.array(records.map(f) as unknown[], type as never);
      const rows = await sql`
        WITH ids AS MATERIALIZED (
          SELECT nextval(pg_get_serial_sequence('inbox', 'id')) AS id, n FROM generate_series(1, ${records.length}::int) AS n
        ), meta AS (
          INSERT INTO inbox (id, received_at, signature, user_agent, remote_addr, forwarded_for, parseable, instance)
          SELECT ids.id, t.r, t.s, t.ua, t.ra, t.ff, t.p, ${instance}
          FROM unnest(${col((r) => r.receivedAt, "INT8")}::int8[], ${col((r) => r.signature, "TEXT")}::text[], ${col((r) => r.userAgent, "TEXT")}::text[],
                      ${col((r) => r.remoteAddr, "TEXT")}::text[], ${col((r) => r.forwardedFor, "TEXT")}::text[], ${col((r) => isJsonBytes(r.body), "BOOL")}::bool[])
               WITH ORDINALITY AS t(r, s, ua, ra, ff, p, n)
          JOIN ids USING (n)
        ), bodies AS (
          INSERT INTO inbox_bodies (inbox_id, body)
          SELECT ids.id, b.body FROM unnest(${col((r) => r.body, "BYTEA")}::bytea[]) WITH ORDINALITY AS b(body, n) JOIN ids USING (n)
        )
        -- Delivered on commit: idle instances wake up for these (store/postgres/wakeups.ts).
        SELECT id FROM ids, (SELECT pg_notify(${INBOX_CHANNEL}, '')) AS woken ORDER BY n`;
      return rows.map((r: { id: string }) => Number(r.id));
    },
    async probe(): Promise<Readiness> {
      try {
        await sql.begin(async (tx) => {
          // The lock a webhook's INSERT takes: a table locked elsewhere past storage.lock_timeout
          // (a LOCK TABLE, a VACUUM FULL, a migration) turns webhooks away, and readiness with them.
          await tx`LOCK TABLE inbox, inbox_bodies IN ROW EXCLUSIVE MODE`;
          await tx`INSERT INTO health_probe (id, probed_at) VALUES (1, ${Date.now()}) ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at`;
        });
        return { ready: true };
      } catch (err) {
        if (!isStorageFailure(err)) throw err;
        const e = toStorageError(err);
        return { ready: false, reason: `postgres ${e.kind}: ${e.message}` };
      }
    },
  };
}
