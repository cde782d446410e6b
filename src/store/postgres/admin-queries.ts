/**
 * What the admin API reads on the PostgreSQL engine: events (a page newest first after
 * a cursor, one by id with its webhook and deliveries), one message's state and
 * timeline, the scheduled jobs' runs, the alerts. Rows come back in the shapes of the SQLite
 * engine's queries (store/event-query.ts, store/message-store.ts), numbers as numbers.
 * Event ids are per-instance ULIDs: a page after a cursor is stable, but an event stored
 * later by another instance may sort before the cursor (the live stream, which must not
 * skip one, goes by another order: store/postgres/event-stream.ts).
 */
import type { SQL } from "bun";
import { numOrNull } from "./numbers";
import type { EventFilter, EventPage, EventRow } from "../event-query";
import type { InboundRecord, OutboundRecord, StatusRecord } from "../message-store";
import type { DeliveryListRow, InboxListRow } from "../inspect-store";
import type { AlertFilter } from "../alert-store";
import { eventIdFloor } from "../../util/ids";
import { identityOf } from "../../domain/identity";
import { newestOfEach } from "../../domain/person-pages";
import { identitiesOfPersons } from "./identities";
import { filterConditions, type Param } from "./event-filter";
import { billableByDay, failuresByCode, type StatsFigures } from "../../domain/stats";
import { minuteOf } from "../stats-store";
import { DELIVERIES_CHANNEL, INBOX_CHANNEL } from "./wakeups";
import { postgresReport } from "./report-store";
import type { AlertRow } from "../../domain/alert";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The filter and the page's cursor as SQL conditions with numbered parameters. */
function conditions(f: EventFilter, after: string | null): { where: string; params: Param[] } {
  const params: Param[] = [];
  const where = filterConditions(f, params);
  if (after !== null) where.push(`id < $${params.push(after)}`);
  return { where: where.length === 0 ? "true" : where.join(" AND "), params };
}


export function postgresAdminQueries(sql: SQL) {
  /** Every id the person `waId` names has had (just `waId` when none is linked), as on SQLite. */
  const personIds = async (waId: string): Promise<string[]> => identityOf(waId, await identitiesOfPersons(sql, [waId])).ids;
  return {
    personIds,
    /** A page newest first; `from` a person: every id they had, as on SQLite (domain/person-pages.ts). */
    async eventsPage(f: EventFilter, after: string | null, limit: number): Promise<EventPage> {
      const ids = f.waId === null ? [null] : await personIds(f.waId);
      const ranges = await Promise.all(
        ids.map(async (waId) => {
          const { where, params } = conditions({ ...f, waId }, after);
          return [...(await sql.unsafe(`SELECT id, type, received_at::float8 AS received_at, envelope FROM events WHERE ${where} ORDER BY id DESC LIMIT ${limit + 1}`, params))] as EventRow[];
        }),
      );
      const rows = newestOfEach(ranges, limit + 1);
      const page = rows.slice(0, limit);
      return { rows: page, next: rows.length > limit ? page.at(-1)!.id : null };
    },
    async event(id: string): Promise<(EventRow & { inbox_id: number | null }) | null> {
      const [row] = await sql`SELECT id, type, received_at::float8 AS received_at, envelope, inbox_id::float8 AS inbox_id FROM events WHERE id = ${id}`;
      return (row as EventRow & { inbox_id: number | null }) ?? null;
    },
    async inbox(id: number) {
      const [row] = await sql`
        SELECT i.id::float8 AS id, i.received_at::float8 AS received_at, i.signature, i.user_agent, i.remote_addr, i.state, b.body
        FROM inbox i JOIN inbox_bodies b ON b.inbox_id = i.id WHERE i.id = ${id}`;
      return (row as { id: number; received_at: number; signature: string; user_agent: string | null; remote_addr: string | null; state: string; body: Uint8Array }) ?? null;
    },
    async deliveries(eventId: string) {
      const rows = await sql`
        SELECT id::float8 AS id, hook, state, attempts, next_attempt_at::float8 AS next_attempt_at, last_status, last_error, last_response,
          created_at::float8 AS created_at, updated_at::float8 AS updated_at
        FROM deliveries WHERE event_id = ${eventId} ORDER BY hook COLLATE "C"`;
      return [...rows] as Record<string, string | number | null>[];
    },
    async message(wamid: string): Promise<{ outbound: OutboundRecord | null; inbound: InboundRecord | null; statuses: StatusRecord[] }> {
      const [[outbound], [inbound], statuses] = await Promise.all([
        sql`SELECT phone_number_id, recipient_id, status, status_at::float8 AS status_at, errors, pricing, biz_opaque_callback_data, first_seen_at::float8 AS first_seen_at FROM outbound_messages WHERE wamid = ${wamid}`,
        sql`SELECT phone_number_id, kind, sent_at::float8 AS sent_at, received_at::float8 AS received_at FROM inbound_messages WHERE wamid = ${wamid}`,
        sql`SELECT status, status_at::float8 AS status_at, errors, pricing, event_id, received_at::float8 AS received_at FROM message_statuses WHERE wamid = ${wamid} ORDER BY id`,
      ]);
      return { outbound: (outbound as OutboundRecord) ?? null, inbound: (inbound as InboundRecord) ?? null, statuses: [...statuses] as StatusRecord[] };
    },
    /** GET /v1/stats's figures (admin/stats.ts): the shared queues and the per-minute counts of every instance. */
    async statsFigures(hookNames: readonly string[], now: number): Promise<StatsFigures> {
      const since = (kind: string, ms: number) => sql`SELECT key, sum(n)::float8 AS n FROM stats_by_minute WHERE kind = ${kind} AND minute >= ${minuteOf(ms)} GROUP BY key`;
      const keyed = (rows: { key: string; n: number }[]) => Object.fromEntries(rows.map((r) => [r.key, r.n]));
      const report = postgresReport(sql);
      const [inbox, open, oldest, delivered, lastHour, lastDay, duplicates, statuses, failed, billable, [lag], tracked, sms] = await Promise.all([
        sql`SELECT state, count(*)::float8 AS n FROM inbox WHERE state IN ('pending', 'processing', 'dead') GROUP BY state`,
        sql`SELECT hook, state, count(*)::float8 AS n FROM deliveries WHERE state IN ('pending', 'delivering', 'dead', 'disabled') GROUP BY hook, state`,
        sql`SELECT hook, min(created_at)::float8 AS at FROM deliveries WHERE state IN ('pending', 'delivering') GROUP BY hook`,
        since("delivered", now - DAY),
        since("event", now - HOUR),
        since("event", now - DAY),
        since("duplicate", now - DAY),
        since("status", now - DAY),
        since("failed", now - DAY),
        sql`SELECT to_char(to_timestamp(minute * 60) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, key, sum(n)::float8 AS n
            FROM stats_by_minute WHERE kind = 'billable' AND minute >= ${minuteOf(now - 7 * DAY)} GROUP BY 1, 2 ORDER BY day DESC, key COLLATE "C"`,
        sql`SELECT received_at::float8 AS at FROM inbox WHERE state IN ('pending', 'processing') ORDER BY id LIMIT 1`,
        report.tracked(),
        report.sms(),
      ]);
      const openBy: Record<string, Record<string, number>> = {};
      for (const r of open as { hook: string; state: string; n: number }[]) (openBy[r.hook] ??= {})[r.state] = r.n;
      const oldestBy = Object.fromEntries((oldest as { hook: string; at: number }[]).map((r) => [r.hook, r.at]));
      const deliveredBy = keyed(delivered as { key: string; n: number }[]);
      return {
        inbox: Object.fromEntries((inbox as { state: string; n: number }[]).map((r) => [r.state, r.n])),
        lagMs: lag ? Math.max(0, now - (lag as { at: number }).at) : 0,
        hooks: hookNames.map((name) => ({ name, deliveredLastDay: deliveredBy[name] ?? 0, open: openBy[name] ?? {}, oldestOpenAt: oldestBy[name] ?? null })),
        orphaned: Object.fromEntries(Object.entries(openBy).filter(([hook]) => !hookNames.includes(hook))),
        eventsLastHour: keyed(lastHour as { key: string; n: number }[]),
        eventsLastDay: keyed(lastDay as { key: string; n: number }[]),
        duplicatesLastDay: keyed(duplicates as { key: string; n: number }[])[""] ?? 0,
        statusesLastDay: keyed(statuses as { key: string; n: number }[]),
        failedByCode: failuresByCode(keyed(failed as { key: string; n: number }[])),
        billable: billableByDay(billable as { day: string; key: string; n: number }[]),
        tracked,
        sms,
      };
    },
    /**
     * An event queued again to the hooks `wants` picks (fresh attempts, due now, the same
     * webhook-id); null when there is no such event.
     */
    async replayEvent(eventId: string, wants: (type: string, phoneNumberId: string | null) => string[], now: number): Promise<Record<string, number> | null> {
      return sql.begin(async (tx) => {
        const [event] = await tx`SELECT id, type, phone_number_id FROM events WHERE id = ${eventId}`;
        if (!event) return null;
        const hooks = wants(event.type, event.phone_number_id);
        for (const hook of hooks) {
          await tx`
            INSERT INTO deliveries (event_id, hook, next_attempt_at, created_at, updated_at) VALUES (${eventId}, ${hook}, ${now}, ${now}, ${now})
            ON CONFLICT (event_id, hook) DO UPDATE SET state = 'pending', attempts = 0, next_attempt_at = ${now}, lease_token = NULL, lease_until = NULL, updated_at = ${now}`;
        }
        if (hooks.length > 0) await tx.notify(DELIVERIES_CHANNEL);
        return Object.fromEntries(hooks.map((h) => [h, 1]));
      });
    },
    /** Templates, the most recently changed first, and each one's notices in arrival order. */
    async templates() {
      const rows = [
        ...(await sql`SELECT template_id, name, language, status, quality, category, updated_at::float8 AS updated_at FROM templates ORDER BY updated_at DESC, template_id COLLATE "C"`),
      ] as { template_id: string; name: string | null; language: string | null; status: string | null; quality: string | null; category: string | null; updated_at: number }[];
      const notices = await sql`
        SELECT subject_id, attribute, value, at::float8 AS at, applied::int AS applied, received_at::float8 AS received_at FROM state_history
        WHERE subject = 'template' AND subject_id = ANY(${sql.array(rows.map((r) => r.template_id), "TEXT")}::text[]) ORDER BY received_at, event_id COLLATE "C"`;
      const history = new Map<string, { attribute: string; value: string | null; at: number | null; applied: number; received_at: number }[]>();
      for (const { subject_id, ...h } of notices) history.set(subject_id, [...(history.get(subject_id) ?? []), h]);
      return { rows, history };
    },
    /** Newest first across the given hooks, in any of `states` (null: every state). */
    async deliveryList(hooks: readonly string[], states: readonly string[] | null, before: number | null, limit: number): Promise<DeliveryListRow[]> {
      const rows = await sql`
        SELECT d.id::float8 AS id, d.event_id, e.type AS event_type, d.hook, d.state, d.attempts, d.next_attempt_at::float8 AS next_attempt_at,
          d.last_status, d.last_error, d.last_response, d.created_at::float8 AS created_at, d.updated_at::float8 AS updated_at
        FROM deliveries d JOIN events e ON e.id = d.event_id
        WHERE d.hook = ANY(${sql.array([...hooks], "TEXT")}::text[])
          AND (${states === null} OR d.state = ANY(${sql.array([...(states ?? [])], "TEXT")}::text[]))
          AND (${before === null} OR d.id < ${before ?? 0})
        ORDER BY d.id DESC LIMIT ${limit}`;
      return [...rows] as DeliveryListRow[];
    },
    /** Every hook name that has deliveries, configured now or not, by name. */
    hooksWithDeliveries: async () => [...(await sql`SELECT DISTINCT hook COLLATE "C" AS hook FROM deliveries ORDER BY 1`)].map((r: { hook: string }) => r.hook),
    /** Inbox rows in `state`, newest first, with their bodies. */
    async inboxRows(state: string, before: number | null, limit: number): Promise<InboxListRow[]> {
      const rows = await sql`
        SELECT i.id::float8 AS id, i.received_at::float8 AS received_at, i.state, i.attempts, i.last_error, i.processed_at::float8 AS processed_at,
          i.parseable::int AS parseable, octet_length(b.body) AS bytes, b.body
        FROM inbox i JOIN inbox_bodies b ON b.inbox_id = i.id
        WHERE i.state = ${state} AND (${before === null} OR i.id < ${before ?? 0}) ORDER BY i.id DESC LIMIT ${limit}`;
      return [...rows] as InboxListRow[];
    },
    /** A dead (or disabled) delivery due again now, from a fresh schedule; else its state (null: no such delivery). */
    async retryDelivery(id: number, now: number): Promise<{ retried: boolean; state: string | null; hook: string | null }> {
      return sql.begin(async (tx) => {
        const [row] = await tx`SELECT state, hook FROM deliveries WHERE id = ${id} FOR UPDATE`;
        if (!row) return { retried: false, state: null, hook: null };
        if (row.state !== "dead" && row.state !== "disabled") return { retried: false, state: row.state as string, hook: row.hook as string };
        await tx`UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ${now}, updated_at = ${now}, lease_token = NULL, lease_until = NULL WHERE id = ${id}`;
        await tx.notify(DELIVERIES_CHANNEL);
        return { retried: true, state: "pending", hook: row.hook as string };
      });
    },
    async deliveryHook(id: number): Promise<string | null> {
      const [row] = await sql`SELECT hook FROM deliveries WHERE id = ${id}`;
      return (row?.hook as string | undefined) ?? null;
    },
    /** A dead inbox row processed again (attempts from zero); else its state (null: no such row). */
    async reprocess(id: number): Promise<{ revived: boolean; state: string | null }> {
      return sql.begin(async (tx) => {
        const [row] = await tx`SELECT state FROM inbox WHERE id = ${id} FOR UPDATE`;
        if (!row) return { revived: false, state: null };
        if (row.state !== "dead") return { revived: false, state: row.state as string };
        await tx`UPDATE inbox SET state = 'pending', attempts = 0, last_error = NULL WHERE id = ${id}`;
        await tx.notify(INBOX_CHANNEL);
        return { revived: true, state: "pending" };
      });
    },
    /** Alerts newest first by id, filtered as SQLite's alertStore.list (`before`: the previous page's last id). */
    async alerts(f: AlertFilter, before: number | null, limit: number): Promise<AlertRow[]> {
      const rows = await sql`
        SELECT id::float8 AS id, kind, dedup_key, severity, title, text, data, state, attempts, last_status, last_error,
          created_at::float8 AS created_at, sent_at::float8 AS sent_at
        FROM alerts
        WHERE (${f.kinds === null} OR kind = ANY(${sql.array([...(f.kinds ?? [])], "TEXT")}::text[])) AND (${f.state === null} OR state = ${f.state ?? ""})
          AND (${f.since === null} OR created_at >= ${f.since ?? 0}) AND (${f.until === null} OR created_at < ${f.until ?? 0}) AND (${before === null} OR id < ${before ?? 0})
        ORDER BY id DESC LIMIT ${limit}`;
      return [...rows] as AlertRow[];
    },
    /** Runs per job: how many, how many failed, and the latest (null when never run). */
    async jobRuns(name: string) {
      const [row] = await sql`
        SELECT count(*)::int AS runs, count(error)::int AS failures,
          (SELECT json_build_object('instance', instance, 'started_at', started_at, 'finished_at', finished_at, 'result', result, 'error', error)
           FROM scheduled_runs WHERE name = ${name} ORDER BY fire_at DESC LIMIT 1) AS latest
        FROM scheduled_runs WHERE name = ${name}`;
      const latest = typeof row.latest === "string" ? JSON.parse(row.latest) : row.latest;
      return {
        runs: row.runs as number,
        failures: row.failures as number,
        latest: latest
          ? { instance: latest.instance as string, started_at: numOrNull(latest.started_at)!, finished_at: numOrNull(latest.finished_at), result: latest.result as string | null, error: latest.error as string | null }
          : null,
      };
    },
  };
}
