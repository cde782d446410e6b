/**
 * The numbers behind GET /v1/stats and the template list. Every query is an index
 * probe or a range over the last day or week of events (ids are time-ordered), never
 * the whole history: the stats run on the writer thread.
 */
import type { Database } from "bun:sqlite";
import { eventIdFloor } from "../util/ids";

type Count = { n: number };

export function reportStore(db: Database) {
  const byState = (table: string, states: string[]) =>
    db.prepare<{ state: string; n: number }, []>(`SELECT state, count(*) n FROM ${table} WHERE state IN (${states.map((s) => `'${s}'`).join(", ")}) GROUP BY state`);
  const inboxStates = byState("inbox", ["pending", "processing", "dead"]);
  // Per hook, through the dispatcher's (hook, state, next_attempt_at) index: open rows only.
  const openDeliveries = db.prepare<{ state: string; n: number }, [string]>(
    "SELECT state, count(*) n FROM deliveries INDEXED BY deliveries_due WHERE hook = ? AND state IN ('pending', 'delivering', 'dead', 'disabled') GROUP BY state",
  );
  const oldestDelivery = db.prepare<{ at: number | null }, [string]>(
    "SELECT min(created_at) at FROM deliveries INDEXED BY deliveries_due WHERE hook = ? AND state IN ('pending', 'delivering')",
  );
  const deliveredSince = db.prepare<{ hook: string; n: number }, [string]>(
    "SELECT d.hook, count(*) n FROM events e JOIN deliveries d ON d.event_id = e.id WHERE e.id >= ? AND d.state = 'done' GROUP BY d.hook",
  );
  const eventsByType = db.prepare<{ type: string; n: number }, [string]>("SELECT type, count(*) n FROM events WHERE id >= ? GROUP BY type");
  const duplicatesSince = db.prepare<Count, [string]>(
    "SELECT coalesce(sum(k.duplicates), 0) n FROM events e JOIN dedup_keys k ON k.key = e.dedup_key WHERE e.id >= ?",
  );
  const statuses = db.prepare<{ status: string; n: number }, [string]>(
    `SELECT json_extract(envelope, '$.data.status') status, count(DISTINCT wamid) n FROM events INDEXED BY events_by_type_id
     WHERE type = 'message.status' AND id >= ? GROUP BY 1`,
  );
  const failedByCode = db.prepare<{ code: number | null; n: number }, [string]>(
    `SELECT json_extract(envelope, '$.data.errors[0].code') code, count(DISTINCT wamid) n FROM events INDEXED BY events_by_type_id
     WHERE type = 'message.status' AND id >= ? AND json_extract(envelope, '$.data.status') = 'failed' GROUP BY 1 ORDER BY n DESC`,
  );
  const billable = db.prepare<{ day: string; category: string | null; n: number }, [string]>(
    `SELECT date(received_at / 1000, 'unixepoch') day, json_extract(envelope, '$.data.pricing.category') category, count(DISTINCT wamid) n
     FROM events INDEXED BY events_by_type_id
     WHERE type = 'message.status' AND id >= ? AND json_extract(envelope, '$.data.pricing.billable') = 1 GROUP BY 1, 2 ORDER BY 1 DESC, 2`,
  );
  const tracked = db.prepare<{ state: string; n: number }, []>("SELECT state, count(*) n FROM tracked_messages WHERE state <> 'done' GROUP BY state");
  const sms = db.prepare<{ state: string; n: number }, []>("SELECT state, count(*) n FROM fallback_sends GROUP BY state");
  const templates = db.prepare<{ template_id: string; name: string | null; language: string | null; status: string | null; quality: string | null; category: string | null; updated_at: number }, []>(
    "SELECT template_id, name, language, status, quality, category, updated_at FROM templates ORDER BY updated_at DESC",
  );
  const templateHistory = db.prepare<{ attribute: string; value: string | null; at: number | null; applied: number; received_at: number }, [string]>(
    "SELECT attribute, value, at, applied, received_at FROM state_history WHERE subject = 'template' AND subject_id = ? ORDER BY received_at, event_id",
  );
  const rows = <T extends { n: number }>(list: T[], key: (r: T) => string) => Object.fromEntries(list.map((r) => [key(r), r.n]));

  return {
    inbox: () => rows(inboxStates.all(), (r) => r.state),
    openDeliveries: (hook: string) => rows(openDeliveries.all(hook), (r) => r.state),
    oldestOpenDeliveryAt: (hook: string) => oldestDelivery.get(hook)?.at ?? null,
    deliveredSince: (ms: number) => rows(deliveredSince.all(eventIdFloor(ms)), (r) => r.hook),
    eventsByType: (ms: number) => rows(eventsByType.all(eventIdFloor(ms)), (r) => r.type),
    duplicatesSince: (ms: number) => duplicatesSince.get(eventIdFloor(ms))!.n,
    statuses: (ms: number) => rows(statuses.all(eventIdFloor(ms)), (r) => r.status),
    failedByCode: (ms: number) => failedByCode.all(eventIdFloor(ms)),
    billable: (ms: number) => billable.all(eventIdFloor(ms)),
    tracked: () => rows(tracked.all(), (r) => r.state),
    sms: () => rows(sms.all(), (r) => r.state),
    templates: () => templates.all(),
    templateHistory: (id: string) => templateHistory.all(id),
  };
}
