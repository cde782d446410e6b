/**
 * Decides a processing batch in pure code: given the events normalized from its jobs
 * and the state the engine read for them (engine/processing.ts Snapshot), what to
 * write. Events are taken in order and each sees the state the ones before it left
 * (a `read` after a `delivered` of the same message in one batch, a profile name
 * repeated by the next message), so a batch decides exactly what the same events one
 * at a time would.
 */
import type { Notice, StateEffect } from "../domain/effects";
import { isBillable, normalizeCategory } from "../domain/pricing";
import { linkIdentities, type IdentityLink } from "../domain/identity";
import type { StatKind } from "../domain/stats";
import { type BatchWrites, noticeKey, type Snapshot } from "../engine/processing";
import type { EventEnvelope } from "../events/envelope";
import { eventSubject } from "../events/subject";
import type { HookFilter } from "../events/hook-filter";
import type { InboxJob } from "../domain/inbox";
import { nextStatus } from "../whatsapp/status-order";
import type { NormalizedEvent } from "../whatsapp/normalize";
import type { EventRow } from "../events/event-row";

type StatusEffect = Extract<StateEffect, { kind: "status" }>;

/** One job's part of a batch: the events pulled from it this pass (each with its proposed id and dedup key). */
export interface JobSlice {
  job: InboxJob;
  events: { id: string; key: string; event: NormalizedEvent }[];
  /** Events pulled from the job so far, this pass included (stored ones skipped after a restart count too). */
  position: number;
  /** Every event of the job has been pulled. */
  finished: boolean;
  /** The job has a progress row (processed over several passes, or resumed after a restart). */
  hasProgress: boolean;
}

/** A stored event, for what runs after the batch is written (fallback tracking, alerts, logs). */
export interface Stored {
  row: EventRow;
  event: NormalizedEvent;
  /** Its statuses, with the message's state after each. */
  statuses: { effect: StatusEffect; current: string }[];
}

export interface Planned {
  writes: BatchWrites;
  stored: Stored[];
  duplicates: number;
  /** Statuses applied, by "status>state after". */
  transitions: Record<string, number>;
}

export interface Route {
  name: string;
  wants: HookFilter;
}

export function planBatch(slices: readonly JobSlice[], dead: BatchWrites["dead"], snapshot: Snapshot, hooks: readonly Route[]): Planned {
  const writes: BatchWrites = { events: [], deliveries: [], statuses: [], inbound: [], contacts: [], templates: [], notices: [], identities: [], tallies: [], done: [], progress: [], clearProgress: [], dead: dead.filter((d) => snapshot.held.has(d.id)) };
  const state = new BatchState(snapshot);
  const planned: Planned = { writes, stored: [], duplicates: 0, transitions: {} };
  const tally = new Tally();
  for (const slice of slices) {
    if (!snapshot.held.has(slice.job.id)) continue; // lease lost: another run owns the job now
    for (const candidate of slice.events) {
      if (snapshot.fresh.has(candidate.id)) planned.stored.push(planEvent(candidate, slice.job, state, writes, planned, tally, hooks));
      else {
        tally.add("duplicate", slice.job.received_at, "");
        planned.duplicates++;
      }
    }
    if (slice.finished) {
      writes.done.push(slice.job.id);
      if (slice.hasProgress) writes.clearProgress.push(slice.job.id);
    } else writes.progress.push({ id: slice.job.id, position: slice.position });
  }
  writes.contacts = [...state.contacts.entries()].map(([waId, seenAt]) => ({ waId, seenAt }));
  writes.templates = [...state.templates.values()];
  // Order-independent (domain/identity.ts): the batch's changes are merged at once, not one by one.
  writes.identities = state.links.length > 0 ? linkIdentities(snapshot.identities, state.links) : [];
  writes.tallies = tally.rows();
  return planned;
}

function planEvent(candidate: JobSlice["events"][number], job: InboxJob, state: BatchState, writes: BatchWrites, planned: Planned, tally: Tally, hooks: readonly Route[]): Stored {
  const { id, key, event } = candidate;
  const statuses: Stored["statuses"] = [];
  let notices = 0;
  let applied = 0;
  for (const effect of event.effects) {
    switch (effect.kind) {
      case "status": {
        const { next, firstPriced } = state.status(effect);
        writes.statuses.push({ effect, next, eventId: id, receivedAt: job.received_at });
        statuses.push({ effect, current: next });
        event.data.current_status = next;
        countStatus(tally, effect, firstPriced, job.received_at);
        const move = `${effect.status}>${next}`;
        planned.transitions[move] = (planned.transitions[move] ?? 0) + 1;
        break;
      }
      case "inbound":
        writes.inbound.push({ wamid: effect.wamid, eventId: id, phoneNumberId: event.phoneNumberId, sender: effect.sender, kind: effect.messageKind, sentAt: effect.sentAt, receivedAt: job.received_at });
        break;
      case "contact":
        state.seen(effect.waId, effect.seenAt);
        break;
      case "template":
        state.template(effect);
        break;
      case "identity":
        state.links.push(effect.link);
        break;
      case "notice": {
        notices++;
        // Meta stopped sending old_limit (February 2026): the limit this number had, as we knew it, tells a lowered one.
        const before = effect.attribute === "messaging_limit" ? state.valueOf(effect) : null;
        const verdict = state.notice(effect);
        if (verdict === "unchanged") break;
        if (verdict === "applied") applied++;
        if (verdict === "applied" && before !== null && before !== effect.value) event.data.previous_limit = before;
        writes.notices.push({ notice: effect, eventId: id, applied: verdict === "applied", receivedAt: job.received_at });
      }
    }
  }
  // A notice older than what it would replace is still an event, flagged: consumers see the history.
  if (notices > 0 && event.type !== "message.received") event.data.state_changed = applied > 0;
  const envelope: EventEnvelope = {
    id,
    type: event.type,
    timestamp: new Date(event.occurredAt ?? job.received_at).toISOString(),
    received_at: new Date(job.received_at).toISOString(),
    waba_id: event.wabaId,
    phone_number_id: event.phoneNumberId,
    display_phone_number: event.displayPhoneNumber,
    data: event.data,
    raw: event.raw,
  };
  const subject = eventSubject(event.type, event.data);
  const row: EventRow = {
    id,
    inboxId: job.id,
    type: event.type,
    occurredAt: event.occurredAt,
    receivedAt: job.received_at,
    wabaId: event.wabaId,
    phoneNumberId: event.phoneNumberId,
    dedupKey: key,
    wamid: subject.wamid,
    waId: subject.waId,
    envelope: JSON.stringify(envelope),
  };
  writes.events.push(row);
  for (const hook of hooks) if (hook.wants(event.type, event.phoneNumberId)) writes.deliveries.push({ eventId: id, hook: hook.name });
  tally.add("event", job.received_at, event.type);
  return { row, event, statuses };
}

/** GET /v1/stats' delivery funnel, failures by code and billable messages, counted as they are stored. */
function countStatus(tally: Tally, effect: StatusEffect, firstPriced: boolean, at: number) {
  tally.add("status", at, effect.status);
  if (effect.status === "failed") tally.add("failed", at, String((effect.errors?.[0] as { code?: unknown } | undefined)?.code ?? ""));
  if (firstPriced && effect.pricing && isBillable(effect.pricing)) tally.add("billable", at, categoryKey(effect.pricing.category));
}

/** Meta's two spellings of a category count as one; none is ''. */
const categoryKey = (category: unknown) => (typeof category === "string" ? normalizeCategory(category) : "");

/** The state as the batch moves it: what was read, then what each event before changed. */
class BatchState {
  readonly #outbound: Map<string, { status: string; priced: boolean }>;
  readonly #notices: Map<string, { value: string | null; at: number | null }>;
  readonly contacts = new Map<string, number | null>();
  readonly templates = new Map<string, BatchWrites["templates"][number]>();
  readonly links: IdentityLink[] = [];

  constructor(snapshot: Snapshot) {
    this.#outbound = new Map(snapshot.outbound);
    this.#notices = new Map(snapshot.notices);
  }

  /** The message's state after this status (only forward), and whether it brought the message's first pricing. */
  status(s: StatusEffect): { next: string; firstPriced: boolean } {
    const before = this.#outbound.get(s.wamid);
    const next = nextStatus(before?.status ?? null, s.status);
    const firstPriced = s.pricing !== null && before?.priced !== true;
    this.#outbound.set(s.wamid, { status: next, priced: before?.priced === true || s.pricing !== null });
    return { next, firstPriced };
  }

  seen(waId: string, at: number | null) {
    const before = this.contacts.get(waId);
    this.contacts.set(waId, before === undefined ? at : Math.max(before ?? 0, at ?? 0) || null);
  }

  template(t: Extract<StateEffect, { kind: "template" }>) {
    const before = this.templates.get(t.templateId);
    this.templates.set(t.templateId, {
      templateId: t.templateId,
      name: t.name ?? before?.name ?? null,
      language: t.language ?? before?.language ?? null,
      // A category change is a clocked notice; the category other notices carry only fills a gap.
      category: before?.category ?? t.category,
    });
  }

  /** The current value of what the notice is about (null: none known). */
  valueOf(n: Notice): string | null {
    return this.#notices.get(noticeKey(n))?.value ?? null;
  }

  /**
   * Meta's clock decides (migrations/0004): a notice applies unless older than the one
   * that set the current value; an unknown time never beats a known one; equal times:
   * the later arrival wins. A "changes" notice repeating the current value is not news.
   */
  notice(n: Notice): "applied" | "stale" | "unchanged" {
    const key = noticeKey(n);
    const current = this.#notices.get(key);
    if (n.record === "changes" && current !== undefined && current.value === n.value) return "unchanged";
    const applies = current === undefined || current.at === null || (n.at !== null && n.at >= current.at);
    if (!applies) return "stale";
    this.#notices.set(key, { value: n.value, at: n.at });
    return "applied";
  }
}

/** Per-minute counts summed in memory: one row write per (kind, minute, key) per batch. */
class Tally {
  readonly #sums = new Map<string, [StatKind, number, string, number]>();

  add(kind: StatKind, atMs: number, key: string) {
    const id = `${kind}\u0000${Math.floor(atMs / 60_000)}\u0000${key}`;
    const row = this.#sums.get(id);
    if (row) row[3]++;
    else this.#sums.set(id, [kind, atMs, key, 1]);
  }

  rows() {
    return [...this.#sums.values()];
  }
}
