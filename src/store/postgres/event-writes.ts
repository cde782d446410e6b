/**
 * Writing events and their deliveries on the PostgreSQL engine, for every writer: a
 * processing batch, and the daemon's own events (the sweeper's, the tracker's). Each
 * table takes one statement, columns as arrays through `unnest`.
 */
import type { SQL } from "bun";
import type { Raised } from "../../events/raise";
import { DELIVERIES_CHANNEL } from "./wakeups";
import type { EventRow } from "../../events/event-row";

type Tx = SQL;
const texts = (tx: Tx, values: readonly (string | null)[]) => tx.array(values as string[], "TEXT");
const ints = (tx: Tx, values: readonly (number | null)[]) => tx.array(values as number[], "INT8");

/**
 * Bun's queries start when their `then` is first called (an `await` calls it a microtask
 * later); these call it at once, so a writer that pipelines steps on one connection gets
 * them in the order it called them: deliveries after their events.
 */
export function insertEvents(tx: Tx, e: readonly EventRow[]): Promise<unknown> {
  return tx`
    INSERT INTO events (id, inbox_id, type, occurred_at, received_at, waba_id, phone_number_id, dedup_key, wamid, wa_id, envelope)
    SELECT * FROM unnest(${texts(tx, e.map((x) => x.id))}::text[], ${ints(tx, e.map((x) => x.inboxId))}::int8[], ${texts(tx, e.map((x) => x.type))}::text[],
      ${ints(tx, e.map((x) => x.occurredAt))}::int8[], ${ints(tx, e.map((x) => x.receivedAt))}::int8[], ${texts(tx, e.map((x) => x.wabaId))}::text[],
      ${texts(tx, e.map((x) => x.phoneNumberId))}::text[], ${texts(tx, e.map((x) => x.dedupKey))}::text[], ${texts(tx, e.map((x) => x.wamid))}::text[],
      ${texts(tx, e.map((x) => x.waId))}::text[], ${texts(tx, e.map((x) => x.envelope))}::text[])`.then((r) => r);
}

/** New deliveries, and a notification (sent on commit) so that every instance's dispatcher looks. */
export async function insertDeliveries(tx: Tx, d: readonly { eventId: string; hook: string }[], now: number) {
  const insert = tx`
    INSERT INTO deliveries (event_id, hook, next_attempt_at, created_at, updated_at)
    SELECT e, h, ${now}, ${now}, ${now} FROM unnest(${texts(tx, d.map((x) => x.eventId))}::text[], ${texts(tx, d.map((x) => x.hook))}::text[]) AS t(e, h)
    ON CONFLICT (event_id, hook) DO NOTHING`.then((r) => r);
  await Promise.all([insert, tx.notify(DELIVERIES_CHANNEL)]);
}

/**
 * Stores the daemon's own events, each once per occurrence: an event whose dedup key was
 * seen before (a step run again, on this instance or another) is not stored again.
 * Answers the ids stored.
 */
export async function storeRaised(tx: Tx, raised: readonly Raised[], now: number): Promise<Set<string>> {
  const first = new Map<string, Raised>();
  for (const r of raised) if (!first.has(r.row.dedupKey)) first.set(r.row.dedupKey, r);
  if (first.size === 0) return new Set();
  const keys = [...first.keys()].sort();
  const rows = await tx`
    INSERT INTO dedup_keys (key, event_id, first_seen, last_seen)
    SELECT k, id, ${now}, ${now} FROM unnest(${texts(tx, keys)}::text[], ${texts(tx, keys.map((k) => first.get(k)!.row.id))}::text[]) AS t(k, id) ORDER BY k
    ON CONFLICT (key) DO NOTHING
    RETURNING event_id`;
  const fresh = new Set<string>(rows.map((r: { event_id: string }) => r.event_id));
  const stored = raised.filter((r) => fresh.has(r.row.id));
  if (stored.length === 0) return fresh;
  await insertEvents(tx, stored.map((r) => r.row));
  const deliveries = stored.flatMap((r) => r.hooks.map((hook) => ({ eventId: r.row.id, hook })));
  if (deliveries.length > 0) await insertDeliveries(tx, deliveries, now);
  return fresh;
}
