/**
 * SMS fallback's state on the PostgreSQL engine, one transaction at a time: a unit of
 * work. The tracker (sweeper/tracker.ts) is synchronous, written for a store it can
 * read and write between two statements; over a network that would be a round trip per
 * read. So a transaction locks the messages it will move (message-locks.ts), loads
 * their tracked rows, SMS rows and timelines in three queries, lets the tracker run on
 * this in-memory copy, then writes what changed with one statement per table.
 *
 * The copy is exact for as long as the transaction holds the messages' locks: every
 * writer of these tables takes them first. Events and alerts the tracker raises are
 * kept until the flush, where their dedup keys decide which are new.
 */
import type { SQL } from "bun";
import { numOrNull } from "./numbers";
import type { AlertDraft } from "../../domain/alert";
import type { Notice } from "../../domain/effects";
import type { FallbackSendRow, TrackedRow } from "../../domain/tracked";
import type { PlanEvent, Raised, RaiseEvent } from "../../events/raise";
import type { Move, NoticeApplier, TimelineRow, TrackerStore, TrackingStore } from "../tracking-store";
import { storeRaised } from "./event-writes";
import { insertAlerts } from "./alert-queue";
import { lockMessages } from "./message-locks";
import { beforeWriting } from "./erasure-gate";
import { recordNotices } from "./notice-writes";

type Tx = SQL;
type Send = FallbackSendRow & { lease_until: number | null };
export type AlertState = "pending" | "recorded";
/** A new alert, once stored: who announces it (alerts/alerter.ts announce). */
export type StoredAlert = { id: number; draft: AlertDraft; state: AlertState };


export class FallbackUnit implements TrackerStore, Pick<TrackingStore, "finishSend" | "resolveUnknown">, NoticeApplier {
  readonly #rows = new Map<string, TrackedRow | null>();
  readonly #sends = new Map<string, Send | null>();
  readonly #timelines = new Map<string, TimelineRow[]>();
  /** Each loaded message's last move number (0: none): new moves continue it. */
  readonly #lastSeq = new Map<string, number>();
  readonly #dirtyRows = new Set<string>();
  readonly #dirtySends = new Set<string>();
  readonly #moves: { wamid: string; seq: number; state: string; at: number; detail: string | null }[] = [];
  readonly #notices: { notice: Notice; eventId: string }[] = [];
  readonly #raised: Raised[] = [];
  readonly #alerts: { draft: AlertDraft; state: AlertState }[] = [];

  private constructor(private readonly planEvent: PlanEvent) {}

  /**
   * A unit for these messages. `lock`: take their locks first (a writer); a reader that
   * only shows them (GET /v1/messages) does not.
   */
  static async load(tx: Tx, wamids: readonly string[], planEvent: PlanEvent, lock = true): Promise<FallbackUnit> {
    const unit = new FallbackUnit(planEvent);
    const unique = [...new Set(wamids)];
    if (lock) await lockMessages(tx, unique);
    for (const w of unique) {
      unit.#rows.set(w, null);
      unit.#sends.set(w, null);
      unit.#timelines.set(w, []);
    }
    if (unique.length === 0) return unit;
    const list = tx.array(unique, "TEXT");
    const [rows, sends, moves] = await Promise.all([
      tx`SELECT * FROM tracked_messages WHERE wamid = ANY(${list}::text[])`,
      tx`SELECT * FROM fallback_sends WHERE wamid = ANY(${list}::text[])`,
      tx`SELECT wamid, seq, state, at, detail FROM tracked_timeline WHERE wamid = ANY(${list}::text[]) ORDER BY wamid, seq`,
    ]);
    for (const r of rows) unit.#rows.set(r.wamid, trackedRow(r));
    for (const s of sends) unit.#sends.set(s.wamid, sendRow(s));
    for (const m of moves) {
      unit.#timelines.get(m.wamid)!.push({ state: m.state, at: Number(m.at), detail: m.detail });
      unit.#lastSeq.set(m.wamid, m.seq);
    }
    return unit;
  }

  // ——— the tracker's store (store/tracking-store.ts, same meanings) ———

  get(wamid: string): TrackedRow | null {
    return this.#loaded(this.#rows, wamid);
  }

  rows(wamids: readonly string[]): Map<string, TrackedRow> {
    const found = new Map<string, TrackedRow>();
    for (const w of wamids) {
      const row = this.get(w);
      if (row) found.set(w, row);
    }
    return found;
  }

  insert(r: TrackedRow, _now: number) {
    this.#rows.set(r.wamid, r);
    this.#dirtyRows.add(r.wamid);
  }

  save(before: TrackedRow, after: TrackedRow, _now: number) {
    this.#rows.set(after.wamid, after);
    if ((Object.keys(after) as (keyof TrackedRow)[]).some((k) => before[k] !== after[k])) this.#dirtyRows.add(after.wamid);
  }

  note(wamid: string, at: number, ...moves: Move[]) {
    const timeline = this.#loaded(this.#timelines, wamid);
    let seq = this.#lastSeq.get(wamid) ?? 0;
    for (const m of moves) {
      const detail = m.detail ? JSON.stringify(m.detail) : null;
      timeline.push({ state: m.state, at, detail });
      this.#moves.push({ wamid, seq: ++seq, state: m.state, at, detail });
    }
    this.#lastSeq.set(wamid, seq);
  }

  timeline(wamid: string): TimelineRow[] {
    return this.#loaded(this.#timelines, wamid);
  }

  addSend(s: Pick<FallbackSendRow, "wamid" | "state" | "recipient" | "text" | "reason" | "error_code" | "category">, now: number): boolean {
    if (this.#loaded(this.#sends, s.wamid)) return false;
    this.#setSend({ ...s, attempts: 0, next_attempt_at: now, lease_token: null, lease_until: null, provider_status: null, provider_response: null, last_error: null, created_at: now, sent_at: null });
    return true;
  }

  send(wamid: string): FallbackSendRow | null {
    return this.#loaded(this.#sends, wamid);
  }

  cancelSend(wamid: string, _now: number): boolean {
    const s = this.send(wamid);
    if (s?.state !== "pending") return false;
    this.#setSend({ ...(s as Send), state: "cancelled" });
    return true;
  }

  refuseSend(wamid: string, token: string, state: "expired" | "unknown", why: string, _now: number): boolean {
    const s = this.#held(wamid, token);
    if (!s) return false;
    this.#setSend({ ...s, state, attempts: s.attempts - 1, last_error: why, lease_token: null, lease_until: null });
    return true;
  }

  finishSend(wamid: string, token: string, o: { state: string; status: number | null; response: string | null; error: string | null; retryAt: number | null }, now: number): boolean {
    const s = this.#held(wamid, token);
    if (!s) return false;
    this.#setSend({
      ...s,
      state: o.state,
      provider_status: o.status,
      provider_response: o.response,
      last_error: o.error,
      next_attempt_at: o.retryAt ?? s.next_attempt_at,
      sent_at: o.state === "sent" ? now : s.sent_at,
      lease_token: null,
      lease_until: null,
    });
    return true;
  }

  resolveUnknown(wamid: string, state: "pending" | "sent", now: number): boolean {
    const s = this.send(wamid) as Send | null;
    if (s?.state !== "unknown") return false;
    this.#setSend({ ...s, state, next_attempt_at: now, lease_token: null, lease_until: null });
    return true;
  }

  /** A notice the tracker infers (a marketing opt-out from error 131050): judged by Meta's clock at the flush. */
  apply(notice: Notice, eventId: string, _now: number): boolean {
    this.#notices.push({ notice, eventId });
    return true;
  }

  /** The tracker's events: stored at the flush, each only if its dedup key is new. Answers the id it will have. */
  readonly raise: RaiseEvent = (type, data, dedupKey, now, phoneNumberId = null) => {
    const planned = this.planEvent(type, data, dedupKey, now, phoneNumberId);
    this.#raised.push(planned);
    return planned.row.id;
  };

  /**
   * An alerts store for an Alerter (alerts/alerter.ts): the alert is kept for the flush,
   * and announced after it once its row is known to be new, so it answers null here.
   */
  readonly alerts = {
    insert: (draft: AlertDraft, state: AlertState, _now: number): number | null => {
      this.#alerts.push({ draft, state });
      return null;
    },
  };

  /** Writes what changed, in the caller's transaction: answers the new events' ids and the new alerts. */
  async flush(tx: Tx, now: number): Promise<{ fresh: Set<string>; alerts: StoredAlert[] }> {
    await Promise.all([this.#writeRows(tx, now), this.#writeMoves(tx), this.#writeSends(tx, now), recordNotices(tx, this.#notices, now)]);
    const [fresh, alerts] = await Promise.all([storeRaised(tx, this.#raised, now), insertAlerts(tx, this.#alerts, now)]);
    return { fresh, alerts };
  }

  #loaded<T>(map: Map<string, T>, wamid: string): T {
    if (!map.has(wamid)) throw new Error(`fallback unit: message ${wamid} was not loaded (and is not locked) in this transaction`);
    return map.get(wamid)!;
  }

  #held(wamid: string, token: string): Send | null {
    const s = this.send(wamid) as Send | null;
    return s && s.lease_token === token ? s : null;
  }

  #setSend(s: Send) {
    this.#sends.set(s.wamid, s);
    this.#dirtySends.add(s.wamid);
  }

  #writeRows(tx: Tx, now: number) {
    const r = [...this.#dirtyRows].sort().map((w) => this.#rows.get(w)!);
    if (r.length === 0) return;
    const t = (f: (x: TrackedRow) => string | null) => tx.array(r.map(f) as string[], "TEXT");
    const i = (f: (x: TrackedRow) => number | null) => tx.array(r.map(f) as number[], "INT8");
    return tx`
      INSERT INTO tracked_messages (wamid, recipient, text, category, stale_after_ms, not_after_ms, fallback, sent_at, registered_at, delivered_at,
        deadline, expires_at, state, reason, error_code, phone_number_id, created_at, updated_at)
      SELECT w, rc, tx, ca, sa, na, fb, st, rg, dl, dd, ex, s, rs, ec::int, pn, ${now}, ${now}
      FROM unnest(${t((x) => x.wamid)}::text[], ${t((x) => x.recipient)}::text[], ${t((x) => x.text)}::text[], ${t((x) => x.category)}::text[],
        ${i((x) => x.stale_after_ms)}::int8[], ${i((x) => x.not_after_ms)}::int8[], ${t((x) => x.fallback)}::text[], ${i((x) => x.sent_at)}::int8[],
        ${i((x) => x.registered_at)}::int8[], ${i((x) => x.delivered_at)}::int8[], ${i((x) => x.deadline)}::int8[], ${i((x) => x.expires_at)}::int8[],
        ${t((x) => x.state)}::text[], ${t((x) => x.reason)}::text[], ${i((x) => x.error_code)}::int8[], ${t((x) => x.phone_number_id)}::text[])
        AS u(w, rc, tx, ca, sa, na, fb, st, rg, dl, dd, ex, s, rs, ec, pn)
      ON CONFLICT (wamid) DO UPDATE SET recipient = excluded.recipient, text = excluded.text, category = excluded.category,
        stale_after_ms = excluded.stale_after_ms, not_after_ms = excluded.not_after_ms, fallback = excluded.fallback, sent_at = excluded.sent_at,
        registered_at = excluded.registered_at, delivered_at = excluded.delivered_at, deadline = excluded.deadline, expires_at = excluded.expires_at,
        state = excluded.state, reason = excluded.reason, error_code = excluded.error_code, phone_number_id = excluded.phone_number_id, updated_at = excluded.updated_at`;
  }

  #writeMoves(tx: Tx) {
    const m = this.#moves;
    if (m.length === 0) return;
    return tx`
      INSERT INTO tracked_timeline (wamid, seq, state, at, detail)
      SELECT * FROM unnest(${tx.array(m.map((x) => x.wamid), "TEXT")}::text[], ${tx.array(m.map((x) => x.seq), "INT4")}::int4[],
        ${tx.array(m.map((x) => x.state), "TEXT")}::text[], ${tx.array(m.map((x) => x.at), "INT8")}::int8[], ${tx.array(m.map((x) => x.detail) as string[], "TEXT")}::text[])`;
  }

  #writeSends(tx: Tx, now: number) {
    const s = [...this.#dirtySends].sort().map((w) => this.#sends.get(w)!);
    if (s.length === 0) return;
    const t = (f: (x: Send) => string | null) => tx.array(s.map(f) as string[], "TEXT");
    const i = (f: (x: Send) => number | null) => tx.array(s.map(f) as number[], "INT8");
    return tx`
      INSERT INTO fallback_sends (wamid, state, recipient, text, reason, error_code, category, attempts, next_attempt_at, lease_token, lease_until,
        provider_status, provider_response, last_error, created_at, sent_at, updated_at)
      SELECT w, st, rc, tx, rs, ec::int, ca, at::int, na, lt, lu, ps::int, pr, le, cr, sa, ${now}
      FROM unnest(${t((x) => x.wamid)}::text[], ${t((x) => x.state)}::text[], ${t((x) => x.recipient)}::text[], ${t((x) => x.text)}::text[],
        ${t((x) => x.reason)}::text[], ${i((x) => x.error_code)}::int8[], ${t((x) => x.category)}::text[], ${i((x) => x.attempts)}::int8[],
        ${i((x) => x.next_attempt_at)}::int8[], ${t((x) => x.lease_token)}::text[], ${i((x) => x.lease_until)}::int8[], ${i((x) => x.provider_status)}::int8[],
        ${t((x) => x.provider_response)}::text[], ${t((x) => x.last_error)}::text[], ${i((x) => x.created_at)}::int8[], ${i((x) => x.sent_at)}::int8[])
        AS u(w, st, rc, tx, rs, ec, ca, at, na, lt, lu, ps, pr, le, cr, sa)
      ON CONFLICT (wamid) DO UPDATE SET state = excluded.state, attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at,
        lease_token = excluded.lease_token, lease_until = excluded.lease_until, provider_status = excluded.provider_status,
        provider_response = excluded.provider_response, last_error = excluded.last_error, sent_at = excluded.sent_at, updated_at = excluded.updated_at`;
  }
}

/** A tracked_messages row as the tracker's TrackedRow (bigint columns arrive as strings). */
export function trackedRow(r: Record<string, unknown>): TrackedRow {
  return {
    wamid: r.wamid as string,
    recipient: r.recipient as string | null,
    text: r.text as string | null,
    category: r.category as string | null,
    stale_after_ms: numOrNull(r.stale_after_ms),
    not_after_ms: numOrNull(r.not_after_ms),
    fallback: r.fallback as TrackedRow["fallback"],
    sent_at: numOrNull(r.sent_at),
    registered_at: numOrNull(r.registered_at),
    delivered_at: numOrNull(r.delivered_at),
    deadline: numOrNull(r.deadline),
    expires_at: numOrNull(r.expires_at),
    state: r.state as TrackedRow["state"],
    reason: r.reason as TrackedRow["reason"],
    error_code: numOrNull(r.error_code),
    phone_number_id: (r.phone_number_id as string | null) ?? null,
  };
}

/** A fallback_sends row as SQLite's store gives it. */
export function sendRow(r: Record<string, unknown>): Send {
  return {
    wamid: r.wamid as string,
    state: r.state as string,
    recipient: r.recipient as string,
    text: r.text as string,
    reason: r.reason as string,
    error_code: numOrNull(r.error_code),
    category: r.category as string | null,
    attempts: Number(r.attempts),
    next_attempt_at: Number(r.next_attempt_at),
    lease_token: r.lease_token as string | null,
    lease_until: numOrNull(r.lease_until),
    provider_status: numOrNull(r.provider_status),
    provider_response: r.provider_response as string | null,
    last_error: r.last_error as string | null,
    created_at: Number(r.created_at),
    sent_at: numOrNull(r.sent_at),
  };
}

/**
 * One transaction on a unit of work: locks and loads the messages, runs `body`
 * (synchronous: the tracker's moves), writes what changed. Answers the body's result and
 * the new alerts, to be announced now that they are committed.
 */
export async function inUnit<T>(sql: SQL, wamids: readonly string[], planEvent: PlanEvent, now: number, body: (unit: FallbackUnit) => T): Promise<{ result: T; alerts: StoredAlert[] }> {
  return (await sql.begin(async (tx) => {
    await beforeWriting(tx);
    const unit = await FallbackUnit.load(tx, wamids, planEvent);
    const result = body(unit);
    const { alerts } = await unit.flush(tx, now);
    return { result, alerts };
  })) as { result: T; alerts: StoredAlert[] };
}

/** The messages' tracked state as stored now, to show (no lock, nothing written). */
export async function readUnit(sql: SQL, wamids: readonly string[], planEvent: PlanEvent): Promise<FallbackUnit> {
  return FallbackUnit.load(sql, wamids, planEvent, false);
}
