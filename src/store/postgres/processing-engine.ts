/**
 * The PostgreSQL engine for processing (engine/processing.ts), for several instances
 * sharing one database. Jobs are claimed in batches with FOR UPDATE SKIP LOCKED, a lease
 * and a token; a batch commits in one transaction that:
 *
 * 0. waits while an erasure runs (store/postgres/erasure-gate.ts): a batch commits wholly
 *    before or after one, as on SQLite;
 * 1. locks the jobs it still holds (FOR UPDATE: an instance whose lease ran out finds
 *    them gone, another instance cannot claim them while the batch commits);
 * 2. takes a transaction-level advisory lock per message and per noticed value the batch
 *    reads (and one for identities when it links ids: store/postgres/identities.ts), in key order (no deadlock between batches): state by Meta's clock is read,
 *    decided and written by one instance at a time per key, so two instances processing
 *    statuses of one message give what one after the other would;
 * 3. claims the dedup keys (`ON CONFLICT`: a key another instance committed first makes
 *    this one a duplicate; one still uncommitted makes this insert wait for it);
 * 4. lets the worker decide in pure code, then writes each table with one statement
 *    (columns as arrays through `unnest`), in key order where rows may be shared.
 *
 * A status or a notice that moves one row is written in arrival order, pipelined on
 * the transaction's connection: each depends on the one before it.
 */
import type { SQL } from "bun";
import { DISPLAY_NUMBERS_LOOKBACK } from "../../config/defaults";
import type { InboxJob } from "../../domain/inbox";
import type { BatchInput, BatchWrites, ProcessingEngine, Snapshot } from "../../engine/processing";
import { noticeKey } from "../../engine/processing";
import type { Notice } from "../../domain/effects";
import { addTallies } from "./stats";
import { insertDeliveries, insertEvents } from "./event-writes";
import { messageLockKey } from "./message-locks";
import { mirrorOf } from "./notice-writes";
import { beforeWriting } from "./erasure-gate";
import { IDENTITY_LOCK, identitiesOfPersons, writeIdentities } from "./identities";

type Tx = SQL;
type Planned = { writes: BatchWrites };

const n = (v: string | number | null) => (v === null ? null : Number(v));
const json = (v: unknown) => (v ? JSON.stringify(v) : null);

/**
 * Runs a batch's `after` (the tracker, the alerter: synchronous) in the batch's
 * transaction on a unit of work loaded for the batch's messages (fallback-unit.ts), and
 * writes what it decided; answers what to do once the batch committed (announce alerts,
 * wake the SMS sender).
 */
export type FollowUp = (tx: SQL, wamids: readonly string[], now: number, body: () => void) => Promise<() => void>;

export function postgresProcessing(sql: SQL, followUp: FollowUp | null = null): ProcessingEngine {
  const ints = (tx: Tx, values: readonly (number | null)[]) => tx.array(values as number[], "INT8");
  const texts = (tx: Tx, values: readonly (string | null)[]) => tx.array(values as string[], "TEXT");

  async function read(tx: Tx, input: BatchInput): Promise<Snapshot> {
    // Sent now (a query runs when awaited), ahead of the jobs' lock: in that order, without a round trip of its own.
    const gate = beforeWriting(tx).execute();
    const held = new Set<number>(
      (await tx`SELECT id FROM inbox WHERE id = ANY(${ints(tx, input.jobs)}::int8[]) AND lease_token = ${input.token} AND state = 'processing' ORDER BY id FOR UPDATE`).map(
        (r: { id: string }) => Number(r.id),
      ),
    );
    await gate;
    // PostgreSQL text holds no NUL: the parts are joined with a unit separator.
    const locks = [
      ...input.wamids.map(messageLockKey),
      ...input.notices.map((k) => `v\u001f${k.subject}\u001f${k.id}\u001f${k.attribute}`),
      ...(input.identities.length > 0 ? [IDENTITY_LOCK] : []),
    ];
    if (locks.length > 0) {
      await tx`SELECT count(pg_advisory_xact_lock(h)) FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest(${texts(tx, locks)}::text[]) AS k ORDER BY 1) AS s`;
    }
    const snapshot: Snapshot = { held, fresh: await claimKeys(tx, input, held), outbound: new Map(), notices: new Map(), identities: await identitiesOfPersons(tx, input.identities) };
    if (input.wamids.length > 0) {
      for (const r of await tx`SELECT wamid, status, pricing IS NOT NULL AS priced FROM outbound_messages WHERE wamid = ANY(${texts(tx, input.wamids)}::text[])`) {
        (snapshot.outbound as Map<string, unknown>).set(r.wamid, { status: r.status, priced: r.priced });
      }
    }
    if (input.notices.length > 0) {
      const rows = await tx`
        SELECT v.subject, v.subject_id, v.attribute, v.value, v.at FROM state_values v
        JOIN unnest(${texts(tx, input.notices.map((k) => k.subject))}::text[], ${texts(tx, input.notices.map((k) => k.id))}::text[], ${texts(tx, input.notices.map((k) => k.attribute))}::text[])
          AS k(subject, subject_id, attribute) USING (subject, subject_id, attribute)`;
      for (const r of rows) {
        (snapshot.notices as Map<string, unknown>).set(noticeKey({ subject: r.subject, id: r.subject_id, attribute: r.attribute }), { value: r.value, at: n(r.at) });
      }
    }
    return snapshot;
  }

  /** The held jobs' proposed ids whose key is new; a key repeated within the batch is a duplicate of its first. Every duplicate is counted. */
  async function claimKeys(tx: Tx, input: BatchInput, held: ReadonlySet<number>): Promise<Set<string>> {
    const first = new Map<string, string>();
    const repeats = new Map<string, number>();
    for (const { job, id, key } of input.keys) {
      if (!held.has(job)) continue;
      if (!first.has(key)) first.set(key, id);
      else repeats.set(key, (repeats.get(key) ?? 0) + 1);
    }
    if (first.size === 0) return new Set();
    const keys = [...first.keys()].sort();
    const rows = await tx`
      INSERT INTO dedup_keys (key, event_id, first_seen, last_seen)
      SELECT k, id, ${input.now}, ${input.now} FROM unnest(${texts(tx, keys)}::text[], ${texts(tx, keys.map((k) => first.get(k)!))}::text[]) AS t(k, id) ORDER BY k
      ON CONFLICT (key) DO UPDATE SET duplicates = dedup_keys.duplicates + 1, last_seen = excluded.last_seen
      RETURNING event_id`;
    if (repeats.size > 0) {
      const again = [...repeats.keys()].sort();
      await tx`
        UPDATE dedup_keys d SET duplicates = d.duplicates + r.n, last_seen = ${input.now}
        FROM unnest(${texts(tx, again)}::text[], ${ints(tx, again.map((k) => repeats.get(k)!))}::int8[]) AS r(key, n) WHERE d.key = r.key`;
    }
    const proposed = new Set(first.values());
    return new Set(rows.map((r: { event_id: string }) => r.event_id).filter((id: string) => proposed.has(id)));
  }

  async function write(tx: Tx, w: BatchWrites, token: string, now: number) {
    const steps: Promise<unknown>[] = [];
    if (w.events.length > 0) steps.push(insertEvents(tx, w.events));
    if (w.deliveries.length > 0) steps.push(insertDeliveries(tx, w.deliveries, now));
    for (const s of w.statuses) steps.push(applyStatus(tx, s, now));
    if (w.statuses.length > 0) {
      const s = w.statuses;
      steps.push(tx`
        INSERT INTO message_statuses (wamid, status, status_at, errors, pricing, event_id, received_at)
        SELECT w, st, at, er, pr, ev, ra FROM unnest(${texts(tx, s.map((x) => x.effect.wamid))}::text[], ${texts(tx, s.map((x) => x.effect.status))}::text[],
          ${ints(tx, s.map((x) => x.effect.statusAt))}::int8[], ${texts(tx, s.map((x) => json(x.effect.errors)))}::text[], ${texts(tx, s.map((x) => json(x.effect.pricing)))}::text[],
          ${texts(tx, s.map((x) => x.eventId))}::text[], ${ints(tx, s.map((x) => x.receivedAt))}::int8[]) WITH ORDINALITY AS t(w, st, at, er, pr, ev, ra, n) ORDER BY n`);
    }
    if (w.inbound.length > 0) {
      const m = [...w.inbound].sort((a, b) => (a.wamid < b.wamid ? -1 : a.wamid > b.wamid ? 1 : 0));
      steps.push(tx`
        INSERT INTO inbound_messages (wamid, event_id, phone_number_id, sender, kind, sent_at, received_at)
        SELECT * FROM unnest(${texts(tx, m.map((x) => x.wamid))}::text[], ${texts(tx, m.map((x) => x.eventId))}::text[], ${texts(tx, m.map((x) => x.phoneNumberId))}::text[],
          ${texts(tx, m.map((x) => x.sender))}::text[], ${texts(tx, m.map((x) => x.kind))}::text[], ${ints(tx, m.map((x) => x.sentAt))}::int8[], ${ints(tx, m.map((x) => x.receivedAt))}::int8[])
        ON CONFLICT (wamid) DO NOTHING`);
    }
    if (w.contacts.length > 0) {
      const c = [...w.contacts].sort((a, b) => (a.waId < b.waId ? -1 : a.waId > b.waId ? 1 : 0));
      steps.push(tx`
        INSERT INTO contacts (wa_id, last_seen_at, updated_at)
        SELECT w, s, ${now} FROM unnest(${texts(tx, c.map((x) => x.waId))}::text[], ${ints(tx, c.map((x) => x.seenAt))}::int8[]) AS t(w, s)
        ON CONFLICT (wa_id) DO UPDATE SET last_seen_at = greatest(coalesce(contacts.last_seen_at, 0), coalesce(excluded.last_seen_at, 0)), updated_at = excluded.updated_at`);
    }
    if (w.templates.length > 0) {
      const t = [...w.templates].sort((a, b) => (a.templateId < b.templateId ? -1 : a.templateId > b.templateId ? 1 : 0));
      // A category change is a clocked notice; the category other notices carry only fills a gap.
      steps.push(tx`
        INSERT INTO templates (template_id, name, language, category, updated_at)
        SELECT i, nm, l, c, ${now} FROM unnest(${texts(tx, t.map((x) => x.templateId))}::text[], ${texts(tx, t.map((x) => x.name))}::text[],
          ${texts(tx, t.map((x) => x.language))}::text[], ${texts(tx, t.map((x) => x.category))}::text[]) AS t(i, nm, l, c)
        ON CONFLICT (template_id) DO UPDATE SET name = coalesce(excluded.name, templates.name), language = coalesce(excluded.language, templates.language),
          category = coalesce(templates.category, excluded.category), updated_at = excluded.updated_at`);
    }
    if (w.notices.length > 0) {
      const h = w.notices;
      steps.push(tx`
        INSERT INTO state_history (subject, subject_id, attribute, value, at, applied, event_id, received_at)
        SELECT s, i, a, v, at, ap, e, ra FROM unnest(${texts(tx, h.map((x) => x.notice.subject))}::text[], ${texts(tx, h.map((x) => x.notice.id))}::text[],
          ${texts(tx, h.map((x) => x.notice.attribute))}::text[], ${texts(tx, h.map((x) => x.notice.value))}::text[], ${ints(tx, h.map((x) => x.notice.at))}::int8[],
          ${tx.array(h.map((x) => x.applied), "BOOL")}::bool[], ${texts(tx, h.map((x) => x.eventId))}::text[], ${ints(tx, h.map((x) => x.receivedAt))}::int8[]) AS t(s, i, a, v, at, ap, e, ra)`);
      for (const x of h) if (x.applied) steps.push(applyNotice(tx, x.notice, x.eventId, now));
    }
    if (w.identities.length > 0) steps.push(writeIdentities(tx, w.identities));
    if (w.tallies.length > 0) steps.push(addTallies(tx, w.tallies));
    for (const p of w.progress) {
      steps.push(tx`INSERT INTO job_progress (inbox_id, progress) VALUES (${p.id}, ${p.position}) ON CONFLICT (inbox_id) DO UPDATE SET progress = excluded.progress`);
    }
    if (w.clearProgress.length > 0) steps.push(tx`DELETE FROM job_progress WHERE inbox_id = ANY(${ints(tx, w.clearProgress)}::int8[])`);
    if (w.done.length > 0) {
      steps.push(tx`
        UPDATE inbox SET state = 'done', lease_token = NULL, lease_until = NULL, last_error = NULL, processed_at = ${now}
        WHERE id = ANY(${ints(tx, w.done)}::int8[]) AND lease_token = ${token}`);
    }
    for (const d of w.dead) steps.push(failJob(tx, d.id, token, "dead", d.error, now));
    await Promise.all(steps);
  }

  const engine: ProcessingEngine = {
    async claim(token, leaseUntil, now, limit): Promise<InboxJob[]> {
      // Pending jobs and jobs whose lease ran out (an instance died mid-batch), oldest first;
      // rows another instance is claiming right now are skipped, not waited for.
      const jobs = await sql`
        WITH picked AS (
          SELECT id FROM inbox WHERE state = 'pending' OR (state = 'processing' AND lease_until < ${now})
          ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED
        )
        UPDATE inbox i SET state = 'processing', attempts = i.attempts + 1, lease_token = ${token}, lease_until = ${leaseUntil}
        FROM picked WHERE i.id = picked.id
        RETURNING i.id, i.parseable, i.received_at, i.attempts, i.last_error`;
      if (jobs.length === 0) return [];
      const ids = jobs.map((j: { id: string }) => Number(j.id)).sort((a: number, b: number) => a - b);
      const stored = new Map<number, { body: Uint8Array; progress: number }>();
      for (const r of await sql`
        SELECT b.inbox_id, b.body, coalesce(p.progress, 0) AS progress FROM inbox_bodies b LEFT JOIN job_progress p USING (inbox_id)
        WHERE b.inbox_id = ANY(${sql.array(ids, "INT8")}::int8[])`) {
        stored.set(Number(r.inbox_id), { body: r.body, progress: r.progress });
      }
      return jobs
        .map((j: { id: string; parseable: boolean; received_at: string; attempts: number; last_error: string | null }) => ({
          id: Number(j.id),
          parseable: j.parseable ? 1 : 0,
          received_at: Number(j.received_at),
          attempts: j.attempts,
          last_error: j.last_error,
          body: stored.get(Number(j.id))?.body ?? new Uint8Array(0),
          progress: stored.get(Number(j.id))?.progress ?? 0,
        }))
        .sort((a: InboxJob, b: InboxJob) => a.id - b.id);
    },
    async commit<T extends Planned>(input: BatchInput, plan: (snapshot: Snapshot) => T, after?: (planned: T) => void): Promise<T> {
      let committed: (() => void) | null = null;
      const planned = (await sql.begin(async (tx) => {
        const planned = plan(await read(tx, input));
        await write(tx, planned.writes, input.token, input.now);
        if (after && followUp) committed = await followUp(tx, planned.writes.statuses.map((s) => s.effect.wamid), input.now, () => after(planned));
        else after?.(planned);
        return planned;
      })) as T;
      (committed as (() => void) | null)?.();
      return planned;
    },
    async release(ids, token) {
      if (ids.length === 0) return;
      await sql`
        UPDATE inbox SET state = 'pending', attempts = attempts - 1, lease_token = NULL, lease_until = NULL
        WHERE id = ANY(${sql.array([...ids], "INT8")}::int8[]) AND lease_token = ${token}`;
    },
    fail: async (id, token, state, error, now) => (await failJob(sql, id, token, state, error, now)).count === 1,
    extend: async (id, token, leaseUntil) => (await sql`UPDATE inbox SET lease_until = ${leaseUntil} WHERE id = ${id} AND lease_token = ${token}`).count === 1,
    async recoverLeases(instance) {
      const r = await sql`
        UPDATE inbox SET state = 'pending', lease_token = NULL, lease_until = NULL
        WHERE state = 'processing' AND starts_with(lease_token, ${`${instance}:`})`;
      return r.count;
    },
    async backlogAgeMs(now) {
      const [row] = await sql`SELECT received_at FROM inbox WHERE state IN ('pending', 'processing') ORDER BY id LIMIT 1`;
      return row ? Math.max(0, now - Number(row.received_at)) : 0;
    },
    async recentNumbers() {
      const rows = await sql`
        SELECT envelope::jsonb ->> 'display_phone_number' AS display, phone_number_id AS id
        FROM (SELECT envelope, phone_number_id, id FROM events WHERE phone_number_id IS NOT NULL ORDER BY id DESC LIMIT ${DISPLAY_NUMBERS_LOOKBACK}) recent
        WHERE envelope::jsonb ->> 'display_phone_number' IS NOT NULL ORDER BY id DESC`;
      return rows.map((r: { display: string; id: string }) => ({ display: r.display, id: r.id }));
    },
  };
  return engine;
}

/**
 * `error` may quote the body (a JSON parse error names the character it met): PostgreSQL's
 * text holds no NUL, so one is written as `\u0000`, or the dead letter could not be written
 * and the whole pass would fail, its batch leased until worker.lease ran out.
 */
const failJob = (tx: Tx, id: number, token: string, state: "pending" | "dead", error: string, now: number) =>
  tx`UPDATE inbox SET state = ${state}, last_error = ${error.replaceAll("\0", "\\u0000")}, lease_token = NULL, lease_until = NULL, processed_at = ${now} WHERE id = ${id} AND lease_token = ${token}`;

type StatusWrite = BatchWrites["statuses"][number];

/** The message's row after one status (its state `next` decided by worker/plan.ts), as the SQLite engine's upsert. */
function applyStatus(tx: Tx, { effect: e, next }: StatusWrite, now: number) {
  return tx`
    INSERT INTO outbound_messages (wamid, phone_number_id, recipient_id, status, status_at, errors, pricing, biz_opaque_callback_data, first_seen_at, updated_at)
    VALUES (${e.wamid}, ${e.phoneNumberId}, ${e.recipientId}, ${next}, ${e.statusAt}, ${json(e.errors)}, ${json(e.pricing)}, ${e.bizOpaque}, ${now}, ${now})
    ON CONFLICT (wamid) DO UPDATE SET
      status = excluded.status,
      status_at = CASE WHEN excluded.status <> outbound_messages.status THEN excluded.status_at ELSE outbound_messages.status_at END,
      phone_number_id = coalesce(outbound_messages.phone_number_id, excluded.phone_number_id),
      recipient_id = coalesce(outbound_messages.recipient_id, excluded.recipient_id),
      errors = coalesce(excluded.errors, outbound_messages.errors),
      pricing = coalesce(excluded.pricing, outbound_messages.pricing),
      biz_opaque_callback_data = coalesce(outbound_messages.biz_opaque_callback_data, excluded.biz_opaque_callback_data),
      updated_at = excluded.updated_at`;
}

/** An applied notice: the value (an unknown time never beats a known one; equal times, the later arrival wins) and its mirrored column. */
function applyNotice(tx: Tx, notice: Notice, eventId: string, now: number) {
  const { subject, id, attribute, value, at } = notice;
  const set = tx`
    INSERT INTO state_values (subject, subject_id, attribute, value, at, event_id) VALUES (${subject}, ${id}, ${attribute}, ${value}, ${at}, ${eventId})
    ON CONFLICT (subject, subject_id, attribute) DO UPDATE SET value = excluded.value, at = excluded.at, event_id = excluded.event_id
    WHERE state_values.at IS NULL OR (excluded.at IS NOT NULL AND excluded.at >= state_values.at)`;
  const mirror = mirrorOf(tx, notice, now);
  return mirror ? Promise.all([set, mirror]) : set;
}
