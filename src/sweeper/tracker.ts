/**
 * Outbound tracking for SMS fallback: the edge between the state machine
 * (transitions.ts, pure) and a store of tracked rows: SQLite's (store/tracking-store.ts)
 * or, on PostgreSQL, one transaction's unit of work (store/postgres/fallback-unit.ts).
 * Every method runs in the caller's transaction: a status is applied with its event, a
 * sweep decision with its SMS row, so a crash never leaves one without the other.
 */
import type { FallbackSettings } from "../config/schema";
import type { SweeperEngine } from "../engine/sweeper";
import type { PlanEvent, RaiseEvent } from "../events/raise";
import type { NoticeApplier, TrackerStore, TrackingStore } from "../store/tracking-store";
import type { StateEffect } from "../domain/effects";
import type { Logger } from "../util/log";
import { isoOrNull } from "../util/time";
import { isIdempotencyKey, WAMID_MAX_LENGTH } from "./idempotency-key";
import { fallbackEvent } from "./fallback-event";
import { parseInstructions, readInstructions } from "./instructions";
import { planStale } from "./stale-plan";
import { statusRank } from "../whatsapp/status-order";
import { codePolicy, MARKETING_ONLY_CODES, MARKETING_STOP_CODE } from "../domain/fallback-policy";
import { normalizeCategory } from "../domain/pricing";
import { decideFallback, onDelivered, onExpiredClaim, unknownCategoryStops, withDeadline, type Decision } from "./transitions";
import type { ClaimedSend, FallbackSendRow, TrackedRow } from "../domain/tracked";

type StatusEffect = Extract<StateEffect, { kind: "status" }>;

const DELIVERED = new Set(["delivered", "read", "played"]);
/** States in which the message's SMS has been requested from the provider. */
const SMS_GONE = new Set(["sending", "fallback_sent", "fallback_failed", "unknown", "late_delivered"]);
/** What a recipient mismatch means, by when it is found. */
const MISMATCH = {
  registered: "Meta's recipient_id differs from the registered number: an SMS goes to the registered number",
  went: "Meta's recipient_id differs from the registered number: the SMS was already requested for the registered number",
  decided: "Meta's recipient_id differs from the number registered after the fallback was decided: it was decided for Meta's recipient_id",
} as const;
const MESSAGE_STATUSES = new Set(["sent", "failed", ...DELIVERED]);
const UNTRACKABLE = `its wamid is not a WhatsApp message id (visible ASCII, at most ${WAMID_MAX_LENGTH} characters), so it could not be the SMS request's Idempotency-Key`;

export interface Registration {
  wamid: string;
  to: string | null;
  text: string | null;
  category: string | null;
  stale_after_ms: number | null;
  not_after_ms: number | null;
  fallback: "auto" | "never" | null;
}

export class Tracker<S extends TrackerStore = TrackingStore> {
  /** While onStatuses runs: the rows of its statuses' wamids as the batch leaves them (null: not tracked). */
  #batch: Map<string, TrackedRow | null> | null = null;

  constructor(
    readonly store: S,
    private readonly notices: NoticeApplier,
    private readonly settings: FallbackSettings,
    private readonly raise: RaiseEvent,
    private readonly planEvent: PlanEvent,
    /** null: this tracker's engine sweeps elsewhere (sweeper/stale-postgres.ts). */
    private readonly sweeper: SweeperEngine | null,
    private readonly log: Logger,
    /** Called when an SMS becomes due, so it goes out now rather than at the next scheduled run. */
    private readonly onDue: () => void = () => {},
  ) {}

  /**
   * The statuses of a processing batch, in order (called by the processor, in its
   * transaction): the rows they need are read in one query, then each status is applied
   * as alone; a status sees what the ones before it in the batch changed.
   */
  onStatuses(statuses: readonly { effect: StatusEffect; current: string; eventId: string }[], now: number) {
    if (statuses.length === 0) return;
    const rows = this.store.rows(statuses.map((s) => s.effect.wamid));
    this.#batch = new Map(statuses.map((s) => [s.effect.wamid, rows.get(s.effect.wamid) ?? null]));
    try {
      for (const s of statuses) this.#onStatus(s.effect, s.current, s.eventId, now);
    } finally {
      this.#batch = null;
    }
  }

  /**
   * A status webhook for an outbound message (in the processor's transaction). Only 1:1
   * message statuses: a group send, a payment or a call has no one phone number an SMS
   * could go to; and only Meta's wamids: another could not be
   * the SMS request's Idempotency-Key. A status that changes nothing writes nothing;
   * the statuses themselves are in message_statuses, the timeline holds our moves
   * (not `done`: on the happy path the `delivered` status says it, one write less).
   */
  #onStatus(s: StatusEffect, current: string, eventId: string, now: number) {
    if (!MESSAGE_STATUSES.has(s.status)) return;
    if (!s.oneToOne) return this.#notOneToOne(s.wamid, now);
    if (!isIdempotencyKey(s.wamid)) return this.#untrackable(s.wamid);
    const existing = this.#get(s.wamid);
    // First seen already delivered (this status, or an earlier one: `current` is the
    // message's state after it): its row is written `done` at once, so that a registration
    // arriving after it (the app's POST /v1/outbound racing Meta's webhook) finds it delivered.
    if (!existing && statusRank(current) >= statusRank("delivered")) return this.#put(null, onDelivered(this.#fromStatus(s, now), s.statusAt ?? now, false), now);
    if (existing?.recipient && s.recipientId && s.recipientId !== existing.recipient && this.#registered(s.wamid)) {
      this.#mismatch(s.wamid, existing.recipient, s.recipientId, SMS_GONE.has(existing.state) ? "went" : "registered", now);
    }
    const row = existing ? this.#fillFromStatus(existing, s) : this.#fromStatus(s, now);
    if (DELIVERED.has(s.status)) return this.#delivered(existing, row, s.statusAt ?? now, now);
    if (s.status === "failed") return this.#failed(existing, row, s, eventId, now);
    this.#put(existing, withDeadline(row, this.settings), now);
  }

  /**
   * A group send's (or a payment's, a call's) status for a message the app registered:
   * there is no one phone number an SMS could go to, so none will; said once, while undecided.
   */
  #notOneToOne(wamid: string, now: number) {
    const row = this.#get(wamid);
    if (row?.state !== "tracked") return;
    this.#settle(row, { ...row, state: "not_sent" }, now, "not a 1:1 message (a group send, a payment or a call): no one phone number to text");
  }

  /** Said at each status of such a message: its event goes to hooks as usual, but no SMS can follow it. */
  #untrackable(wamid: string) {
    this.log.warn("sms fallback: message not tracked", { wamid: wamid.slice(0, WAMID_MAX_LENGTH), reason: UNTRACKABLE });
  }

  /** POST /v1/outbound: the app tells us what it sent. Fields fill gaps; a decided fallback is never overwritten. */
  register(registration: Registration, now: number): { row: TrackedRow; created: boolean } {
    // In the daemon's one spelling, as a price is (pricingCategory).
    const r = { ...registration, category: registration.category === null ? null : normalizeCategory(registration.category) };
    const existing = this.store.get(r.wamid);
    if (!existing) {
      const row = withDeadline(
        { ...blank(r.wamid), recipient: r.to, text: r.text, category: r.category, stale_after_ms: r.stale_after_ms, not_after_ms: r.not_after_ms, fallback: r.fallback ?? "auto", registered_at: now },
        this.settings,
      );
      this.#put(null, row, now, "registered");
      return { row, created: true };
    }
    // The app's number wins over Meta's recipient_id (docs/fallback.md) while nothing is
    // decided; between two registrations the first stays, like every field.
    const undecided = existing.state === "tracked";
    const differs = r.to !== null && existing.recipient !== null && r.to !== existing.recipient && !this.#registered(r.wamid);
    if (differs) this.#mismatch(r.wamid, r.to!, existing.recipient!, undecided ? "registered" : "decided", now);
    const filled: TrackedRow = {
      ...existing,
      recipient: existing.recipient === null || (differs && undecided) ? r.to : existing.recipient,
      text: existing.text ?? r.text,
      category: existing.category ?? r.category,
      stale_after_ms: existing.stale_after_ms ?? r.stale_after_ms,
      not_after_ms: existing.not_after_ms ?? r.not_after_ms,
      fallback: existing.state === "tracked" && r.fallback === "never" ? "never" : existing.fallback,
      registered_at: existing.registered_at ?? now,
    };
    const row = withDeadline(filled, this.settings);
    this.#put(existing, row, now, "registered");
    // A failure that waited for the app to describe the message (#mayDecideNow) is decided now.
    const waited = row.state === "tracked" && row.error_code !== null && codePolicy(row.error_code, this.settings) === "immediate";
    if (waited) return { row: this.#decide(row, "failed", row.error_code, now).row, created: false };
    return { row, created: false };
  }

  #registered(wamid: string): boolean {
    return this.store.timeline(wamid).some((m) => m.state === "registered");
  }

  /**
   * The app registered one number and Meta's status names another (a wa_id need not be
   * the number the app dialled: Brazil's ninth digit, Mexico's 521). Noted on the
   * timeline and logged once per message, the numbers as the logger's hashes.
   */
  #mismatch(wamid: string, registered: string, recipientId: string, which: keyof typeof MISMATCH, now: number) {
    if (this.store.timeline(wamid).some((m) => m.state === "recipient_mismatch")) return;
    const why = MISMATCH[which];
    this.store.note(wamid, now, { state: "recipient_mismatch", detail: { why } });
    this.log.info("sms fallback recipient mismatch", { wamid, to: registered, recipient: recipientId, reason: why });
  }

  /** One batch of the `stale` sweep (tracked messages past their deadline), decided in pure code and written as sets, in one transaction. */
  sweepBatch(now: number, limit: number): { stale: number; pending: number; settled: number } {
    if (!this.sweeper) throw new Error("this tracker has no sweeper engine");
    const { planned, fresh, sends } = this.sweeper.sweepStale(now, limit, (due) => planStale(due, now, this.settings, this.planEvent));
    if (planned.writes.sends.some((s) => s.state === "pending" && sends.has(s.wamid))) this.onDue();
    for (const n of planned.notSent) if (fresh.has(n.eventId)) this.log.info("sms fallback not sent", { wamid: n.wamid, state: n.state, reason: n.why });
    return { stale: planned.stale, pending: planned.pending, settled: planned.stale - planned.pending };
  }

  #fromStatus(s: StatusEffect, now: number): TrackedRow {
    const read = readInstructions(s.bizOpaque);
    const opaque = read?.instructions ?? null;
    // Said once, when the message is first seen: each of its statuses carries the same string.
    if (read && read.problems.length > 0) this.log.warn("sms fallback: instructions in biz_opaque_callback_data left out", { wamid: s.wamid, problems: read.problems });
    return {
      ...blank(s.wamid),
      recipient: s.recipientId,
      category: pricingCategory(s),
      text: opaque?.sms ?? null,
      stale_after_ms: opaque?.stale_after ?? null,
      not_after_ms: opaque?.not_after ?? null,
      fallback: opaque?.fallback ?? "auto",
      sent_at: s.status === "sent" ? s.statusAt : null,
      registered_at: s.status === "sent" ? null : now,
      phone_number_id: s.phoneNumberId,
    };
  }

  #fillFromStatus(row: TrackedRow, s: StatusEffect): TrackedRow {
    const opaque = parseInstructions(s.bizOpaque);
    return {
      ...row,
      recipient: row.recipient ?? s.recipientId,
      // Meta's price is what Meta bills (the app's category is its own word): marketing priced as such never falls back as utility.
      category: pricingCategory(s) ?? row.category,
      text: row.text ?? opaque?.sms ?? null,
      stale_after_ms: row.stale_after_ms ?? opaque?.stale_after ?? null,
      not_after_ms: row.not_after_ms ?? opaque?.not_after ?? null,
      fallback: row.state === "tracked" && opaque?.fallback === "never" ? "never" : row.fallback,
      // Meta's clock, not registration time, once Meta says when it was sent.
      sent_at: row.sent_at ?? (s.status === "sent" ? s.statusAt : null),
      phone_number_id: row.phone_number_id ?? s.phoneNumberId,
    };
  }

  #delivered(before: TrackedRow | null, row: TrackedRow, at: number, now: number) {
    // Not gone out yet (never claimed, or waiting between retries): it never will.
    const cancelled = (row.state === "fallback_pending" || row.state === "sending") && this.store.cancelSend(row.wamid, now);
    const next = onDelivered(row, at, cancelled);
    // Shadow mode: the SMS that would have gone out would have been a double delivery.
    // The timeline says so (what shadow mode is for: tuning the waits); the state stays.
    if (row.state === "shadowed" && row.delivered_at === null) {
      return this.#put(before, next, now, "late_delivered", { delivered_at: isoOrNull(at), shadow: true, ...falseStale(row, at) });
    }
    if (next.state === row.state) return this.#put(before, next, now);
    const detail: Record<string, unknown> = { delivered_at: isoOrNull(at) };
    if (next.state === "late_delivered") {
      const sentAt = this.store.send(row.wamid)?.sent_at ?? null;
      if (sentAt !== null) detail.delay_ms = at - sentAt;
      Object.assign(detail, falseStale(row, at));
    }
    this.#put(before, next, now, next.state === "done" ? undefined : next.state, detail);
    if (cancelled) this.#raiseFallback(next, "cancelled", this.store.send(row.wamid)!, now);
  }

  #failed(before: TrackedRow | null, row: TrackedRow, s: StatusEffect, eventId: string, now: number) {
    const code = errorCode(s.errors);
    // A code only marketing sends fail with says what the message was, as a price would:
    // it falls back only if marketing is listed, whatever the app called it.
    const category = code !== null && MARKETING_ONLY_CODES.includes(code) ? "marketing" : row.category;
    const failed = withDeadline({ ...row, category, error_code: code ?? row.error_code }, this.settings);
    this.#put(before, failed, now);
    // Already decided or delivered (a positive delivery beats `failed` in any order).
    if (row.state !== "tracked") return;
    if (code === MARKETING_STOP_CODE && failed.recipient) {
      this.notices.apply({ kind: "notice", subject: "contact", id: failed.recipient, attribute: "marketing_opt_out", value: "stop", at: s.statusAt, record: "always" }, eventId, now);
    }
    const policy = codePolicy(code, this.settings);
    if (policy === "immediate" && this.#mayDecideNow(failed)) this.#decide(failed, "failed", code, now);
    else if (policy === "never") this.#settle(failed, { ...failed, state: "not_sent", reason: "failed" }, now, `error ${code}: never falls back (fallback policy)`);
  }

  /**
   * A failure of a message the app has not described yet (no category, no registration,
   * no instructions) is decided when the app registers it, not at once: Meta reports
   * 131026 within a second, often before the app's POST /v1/outbound, and deciding then
   * would settle an OTP as not_sent for want of a category the registration brings.
   * The sweep decides it at the deadline if no registration comes.
   */
  #mayDecideNow(row: TrackedRow): boolean {
    return !unknownCategoryStops(row, this.settings, this.#registered(row.wamid));
  }

  /** Stores a fallback decision (a failure the policy sends at once) and, when an SMS is to go out (or be shadowed), its one row. */
  #decide(row: TrackedRow, reason: "stale" | "failed", code: number | null, now: number): Decision {
    const decision = decideFallback(row, reason, code, now, this.settings, this.#registered(row.wamid));
    const next = decision.row;
    this.#save(row, next, now);
    this.store.note(next.wamid, now, { state: next.state, detail: decision.why ? { why: decision.why } : { reason, error_code: code } });
    if (decision.text && next.recipient) {
      const send = { wamid: next.wamid, recipient: next.recipient, text: decision.text, reason, error_code: next.error_code, category: next.category };
      this.store.addSend({ ...send, state: next.state === "shadowed" ? "shadow" : "pending" }, now);
      if (next.state === "shadowed") this.#raiseFallback(next, "shadow", this.store.send(next.wamid)!, now);
      else this.onDue();
    } else if (next.state !== "fallback_pending") {
      this.#notSent(next, now, decision.why!);
    }
    return decision;
  }

  #settle(before: TrackedRow, row: TrackedRow, now: number, why: string) {
    this.#save(before, row, now);
    this.store.note(row.wamid, now, { state: row.state, detail: { why } });
    this.#notSent(row, now, why);
  }

  /** A decision that sends nothing: reported to hooks, and logged once per message (the event's key says once). */
  #notSent(row: TrackedRow, now: number, why: string, send: FallbackSendRow | null = null) {
    if (this.#raiseFallback(row, "not_sent", send, now, why)) this.log.info("sms fallback not sent", { wamid: row.wamid, state: row.state, reason: why });
  }

  /** Inserts or updates the row (only if something changed), and notes a move in the timeline. */
  #put(before: TrackedRow | null, after: TrackedRow, now: number, move?: string, detail: Record<string, unknown> | null = null) {
    if (!before) {
      this.store.insert(after, now);
      this.#batch?.set(after.wamid, after);
    } else this.#save(before, after, now);
    if (move) this.store.note(after.wamid, now, { state: move, detail });
  }

  #get(wamid: string): TrackedRow | null {
    const cached = this.#batch?.get(wamid);
    return cached !== undefined ? cached : this.store.get(wamid);
  }

  #save(before: TrackedRow, after: TrackedRow, now: number) {
    this.store.save(before, after, now);
    this.#batch?.set(after.wamid, after);
  }

  /** message.fallback: what happened to the SMS leg of one message. The event's id; null when it was raised before. */
  #raiseFallback(row: TrackedRow, outcome: string, send: FallbackSendRow | null, now: number, why?: string): string | null {
    const { data, key } = fallbackEvent(row, outcome, send, why);
    return this.raise("message.fallback", data, key, now, row.phone_number_id);
  }

  /** The sender's outcome for one SMS (sender.ts), in its own transaction. */
  recordSend(wamid: string, outcome: "sent" | "failed" | "unknown", now: number) {
    const row = this.store.get(wamid);
    const send = this.store.send(wamid);
    if (!row || !send) return;
    const reached = outcome === "sent" ? "fallback_sent" : outcome === "failed" ? "fallback_failed" : "unknown";
    // Delivered while the request was out: an SMS that went (or may have: unknown) is a late delivery, never resent.
    const state = row.delivered_at !== null && outcome !== "failed" ? "late_delivered" : reached;
    const next: TrackedRow = { ...row, state };
    this.store.save(row, next, now);
    const provider = { provider_status: send.provider_status, attempts: send.attempts, ...(send.last_error ? { error: send.last_error } : {}) };
    // Both happened, so the timeline says both.
    if (state === "late_delivered") this.store.note(wamid, now, { state: reached, detail: provider }, { state, detail: { delivered_at: isoOrNull(row.delivered_at), ...falseStale(row, row.delivered_at) } });
    else this.store.note(wamid, now, { state, detail: provider });
    this.#raiseFallback(next, outcome, send, now);
  }

  /**
   * An attempt failed and another is due (its row is pending again). Delivered while
   * that attempt was out: the retry would text someone who has the message, so it is
   * cancelled (cancelled_delivered, as a delivery between retries is).
   */
  retryLater(wamid: string, o: { status: number | null; retryAt: number | null; why?: string }, attempts: number, now: number) {
    const row = this.store.get(wamid);
    if (row?.state === "sending" && row.delivered_at !== null && this.store.cancelSend(wamid, now)) {
      const next: TrackedRow = { ...row, state: "cancelled_delivered" };
      this.store.save(row, next, now);
      this.store.note(wamid, now, { state: next.state, detail: { delivered_at: isoOrNull(row.delivered_at), provider_status: o.status, attempts, why: "delivered while a failed attempt was out: not retried" } });
      this.#raiseFallback(next, "cancelled", this.store.send(wamid)!, now);
      return;
    }
    if (o.why) this.#noteWait(wamid, o, attempts, now);
  }

  /**
   * The sender claimed an SMS past its message's not_after (in the claim's transaction):
   * it is not sent, and not a provider failure. The timeline, the message.fallback event
   * and one log line say why.
   */
  refuseExpired(send: ClaimedSend, token: string, now: number) {
    const row = this.store.get(send.wamid);
    if (!row) return;
    const { row: next, sms, why } = onExpiredClaim(row, send.retaken === 1);
    if (!this.store.refuseSend(send.wamid, token, sms, why, now)) return;
    this.store.save(row, next, now);
    this.store.note(send.wamid, now, { state: next.state, detail: { not_after: isoOrNull(send.expires_at), why } });
    const refused = this.store.send(send.wamid)!;
    if (sms === "expired") return this.#notSent(next, now, why, refused);
    this.#raiseFallback(next, "unknown", refused, now, why);
    this.log.info("sms fallback not sent", { wamid: send.wamid, state: next.state, reason: why });
  }

  /** An attempt failed and the next one waits other than retry_schedule says: the timeline says why. */
  #noteWait(wamid: string, o: { status: number | null; retryAt: number | null; why?: string }, attempts: number, now: number) {
    this.store.note(wamid, now, { state: "waiting", detail: { provider_status: o.status, attempts, next_attempt_at: isoOrNull(o.retryAt), why: o.why } });
  }

  /** The sender claimed the SMS: the message is no longer cancellable. */
  markSending(wamid: string, now: number) {
    const row = this.store.get(wamid);
    if (row?.state !== "fallback_pending") return;
    this.store.save(row, { ...row, state: "sending" }, now);
    this.store.note(wamid, now, { state: "sending" });
  }
}

/** Delivered before the deadline, but we heard only after it: the sweep judged on missing news. */
const falseStale = (row: TrackedRow, deliveredAt: number | null) => (row.deadline !== null && deliveredAt !== null && deliveredAt <= row.deadline ? { false_stale: true } : {});

function blank(wamid: string): TrackedRow {
  return { wamid, recipient: null, text: null, category: null, stale_after_ms: null, not_after_ms: null, fallback: "auto", sent_at: null, registered_at: null, delivered_at: null, deadline: null, expires_at: null, state: "tracked", reason: null, error_code: null, phone_number_id: null };
}

/** Meta's price, in the daemon's one spelling (domain/pricing.ts): a registered category is spelled so too. */
function pricingCategory(s: StatusEffect): string | null {
  const category = s.pricing?.category;
  return typeof category === "string" && category ? normalizeCategory(category) : null;
}

function errorCode(errors: unknown[] | null): number | null {
  const first = errors?.[0] as { code?: unknown } | undefined;
  const code = typeof first?.code === "string" ? Number(first.code) : first?.code;
  return typeof code === "number" && Number.isInteger(code) ? code : null;
}
