/**
 * Operator alerts on the PostgreSQL engine (migrations/postgres/0005): one row per
 * occurrence whichever instance raises it (dedup_key is unique), sent by the `alerts`
 * job, claimed in batches with FOR UPDATE SKIP LOCKED, a lease and a token, as SQLite's
 * store/alert-store.ts does on one file.
 */
import type { SQL } from "bun";
import type { AlertDraft, AlertRow } from "../../domain/alert";
import type { AlertQueue } from "../../engine/fallback";

type Tx = SQL;
type AlertState = "pending" | "recorded";

/** Inserts the new occurrences, in the caller's transaction; answers those that were new, with their ids. */
export async function insertAlerts(tx: Tx, alerts: readonly { draft: AlertDraft; state: AlertState }[], now: number): Promise<{ id: number; draft: AlertDraft; state: AlertState }[]> {
  if (alerts.length === 0) return [];
  const a = [...new Map(alerts.map((x) => [x.draft.key, x])).values()].sort((x, y) => (x.draft.key < y.draft.key ? -1 : 1));
  const t = (f: (x: (typeof a)[number]) => string) => tx.array(a.map(f), "TEXT");
  const rows = await tx`
    INSERT INTO alerts (kind, dedup_key, severity, title, text, data, state, next_attempt_at, created_at, updated_at)
    SELECT k, d, sv, ti, tx, da, st, ${now}, ${now}, ${now}
    FROM unnest(${t((x) => x.draft.kind)}::text[], ${t((x) => x.draft.key)}::text[], ${t((x) => x.draft.severity)}::text[], ${t((x) => x.draft.title)}::text[],
      ${t((x) => x.draft.text)}::text[], ${t((x) => JSON.stringify(x.draft.data))}::text[], ${t((x) => x.state)}::text[]) AS u(k, d, sv, ti, tx, da, st)
    ON CONFLICT (dedup_key) DO NOTHING
    RETURNING id, dedup_key`;
  const ids = new Map<string, number>(rows.map((r: { id: string; dedup_key: string }) => [r.dedup_key, Number(r.id)]));
  return a.filter((x) => ids.has(x.draft.key)).map((x) => ({ ...x, id: ids.get(x.draft.key)! }));
}

export function postgresAlertQueue(sql: SQL): AlertQueue {
  return {
    async claim(token, leaseUntil, now, limit) {
      const rows = await sql`
        WITH picked AS (
          SELECT id FROM alerts WHERE (state = 'pending' AND next_attempt_at <= ${now}) OR (state = 'sending' AND lease_until < ${now})
          ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED
        )
        UPDATE alerts a SET state = 'sending', attempts = a.attempts + 1, lease_token = ${token}, lease_until = ${leaseUntil}
        FROM picked WHERE a.id = picked.id
        RETURNING a.id::float8 AS id, a.kind, a.dedup_key, a.severity, a.title, a.text, a.data, a.state, a.attempts, a.last_status, a.last_error,
          a.created_at::float8 AS created_at, a.sent_at::float8 AS sent_at`;
      return ([...rows] as AlertRow[]).sort((x, y) => x.id - y.id);
    },
    async finish(id, token, o, now) {
      const r = await sql`
        UPDATE alerts SET state = ${o.state}, last_status = ${o.status}, last_error = ${o.error}, next_attempt_at = ${o.state === "pending" ? o.retryAt : now},
          updated_at = ${now}, sent_at = CASE WHEN ${o.state} = 'sent' THEN ${now}::int8 ELSE sent_at END, lease_token = NULL, lease_until = NULL
        WHERE id = ${id} AND lease_token = ${token}`;
      return r.count === 1;
    },
  };
}
