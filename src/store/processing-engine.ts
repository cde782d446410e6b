/**
 * The SQLite engine for processing (engine/processing.ts): a batch is read and written
 * as sets, in one IMMEDIATE transaction. Lists of keys go in as one JSON parameter
 * (`json_each`), so one prepared statement serves a batch of any size; rows whose
 * values vary per row (events, statuses) reuse one prepared statement each.
 */
import type { Database } from "bun:sqlite";
import type { InboxJob } from "../domain/inbox";
import type { BatchInput, BatchWrites, ProcessingEngine, Snapshot } from "../engine/processing";
import { noticeKey } from "../engine/processing";
import { DISPLAY_NUMBERS_LOOKBACK } from "../config/defaults";
import { durability } from "./durability";
import { eventStore } from "./event-store";
import { identityStore } from "./identity-store";
import { noticeStore } from "./notice-store";
import { queueStore } from "./queue-store";
import { statsStore } from "./stats-store";

export function sqliteProcessing(db: Database): ProcessingEngine {
  const queue = queueStore(db);
  const events = eventStore(db);
  const notices = noticeStore(db);
  const identities = identityStore(db);
  const stats = statsStore(db);
  const held = db.prepare<{ id: number }, [string, string]>(
    "SELECT id FROM inbox WHERE id IN (SELECT value FROM json_each(?1)) AND lease_token = ?2 AND state = 'processing'",
  );
  const outbound = db.prepare<{ wamid: string; status: string; priced: number }, [string]>(
    "SELECT wamid, status, pricing IS NOT NULL AS priced FROM outbound_messages WHERE wamid IN (SELECT value FROM json_each(?1))",
  );
  const values = db.prepare<{ subject: string; subject_id: string; attribute: string; value: string | null; at: number | null }, [string]>(
    `SELECT subject, subject_id, attribute, value, at FROM state_values
     WHERE (subject, subject_id, attribute) IN (SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?1))`,
  );
  const finish = db.prepare<unknown, [string, string, number]>(
    `UPDATE inbox SET state = 'done', lease_token = NULL, lease_until = NULL, last_error = NULL, processed_at = ?3
     WHERE id IN (SELECT value FROM json_each(?1)) AND lease_token = ?2`,
  );
  const clearProgress = db.prepare<unknown, [string]>("DELETE FROM job_progress WHERE inbox_id IN (SELECT value FROM json_each(?1))");
  const recentNumbers = db.prepare<{ display: string; id: string }, [number]>(
    `SELECT envelope ->> '$.display_phone_number' AS display, phone_number_id AS id
     FROM (SELECT envelope, phone_number_id FROM events WHERE phone_number_id IS NOT NULL ORDER BY rowid DESC LIMIT ?1) WHERE display IS NOT NULL`,
  );

  /** Which proposed ids are new (of the jobs still held): a key repeated within the batch is a duplicate of its first. */
  const fresh = (input: BatchInput, heldIds: ReadonlySet<number>) => events.claimDedupKeys(input.keys.filter((k) => heldIds.has(k.job)), input.now);

  function read(input: BatchInput): Snapshot {
    const heldIds = new Set(held.all(JSON.stringify(input.jobs), input.token).map((r) => r.id));
    const snapshot: Snapshot = { held: heldIds, fresh: fresh(input, heldIds), outbound: new Map(), notices: new Map(), identities: identities.ofPersons(input.identities) };
    if (input.wamids.length > 0) {
      for (const r of outbound.all(JSON.stringify(input.wamids))) (snapshot.outbound as Map<string, unknown>).set(r.wamid, { status: r.status, priced: r.priced === 1 });
    }
    if (input.notices.length > 0) {
      const keys = JSON.stringify(input.notices.map((n) => [n.subject, n.id, n.attribute]));
      for (const r of values.all(keys)) {
        (snapshot.notices as Map<string, unknown>).set(noticeKey({ subject: r.subject as never, id: r.subject_id, attribute: r.attribute as never }), { value: r.value, at: r.at });
      }
    }
    return snapshot;
  }

  function write(w: BatchWrites, token: string, now: number) {
    for (const e of w.events) events.insertEvent(e);
    events.insertDeliveries(w.deliveries, now);
    // Rows of a webhook's items say when it arrived (received_at), as its events do; `now` is when they were written.
    for (const s of w.statuses) events.applyStatus(s.effect, s.next, s.eventId, now, s.receivedAt);
    for (const m of w.inbound) events.insertInbound(m);
    for (const c of w.contacts) events.seeContact(c.waId, c.seenAt, now);
    for (const t of w.templates) events.upsertTemplate(t, now);
    for (const n of w.notices) notices.record(n.notice, n.eventId, n.applied, now, n.receivedAt);
    identities.write(w.identities);
    for (const [kind, at, key, n] of w.tallies) stats.add(kind, at, key, n);
    for (const p of w.progress) queue.saveProgress(p.id, p.position);
    if (w.clearProgress.length > 0) clearProgress.run(JSON.stringify(w.clearProgress));
    if (w.done.length > 0) finish.run(JSON.stringify(w.done), token, now);
    for (const d of w.dead) queue.fail(d.id, token, "dead", d.error, now);
  }

  type Planned = { writes: BatchWrites };
  const commit = db.transaction((input: BatchInput, plan: (snapshot: Snapshot) => Planned, after?: (planned: Planned) => void): Planned => {
    const planned = plan(read(input));
    write(planned.writes, input.token, input.now);
    after?.(planned);
    return planned;
  });
  const { relaxed } = durability(db);

  // Each call settles before it returns: `async` only wraps the answer (and a throw) in a promise.
  return {
    // A claim lost to a power cut only puts its jobs back in the queue.
    claim: async (token, leaseUntil, now, limit): Promise<InboxJob[]> => relaxed(() => queue.claim(token, leaseUntil, now, limit)),
    commit: async <T extends Planned>(input: BatchInput, plan: (snapshot: Snapshot) => T, after?: (planned: T) => void) =>
      relaxed(() => commit.immediate(input, plan, after as ((planned: Planned) => void) | undefined) as T),
    release: async (ids, token) => void db.transaction(() => ids.forEach((id) => queue.release(id, token))).immediate(),
    fail: async (id, token, state, error, now) => queue.fail(id, token, state, error, now),
    extend: async (id, token, leaseUntil) => queue.extend(id, token, leaseUntil),
    recoverLeases: async (instance) => queue.recoverLeases(instance),
    backlogAgeMs: async (now) => queue.backlogAgeMs(now),
    recentNumbers: async () => recentNumbers.all(DISPLAY_NUMBERS_LOOKBACK),
  };
}
