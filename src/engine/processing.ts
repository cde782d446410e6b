/**
 * What the worker asks of a storage engine to process webhooks, batch by batch: claim
 * jobs, and commit a batch (read the state its keys need, let the worker decide in pure
 * code, write the decisions, all in one transaction). The worker (worker/processor.ts,
 * worker/plan.ts) holds the rules; the engine holds the SQL. store/processing-engine.ts
 * is the SQLite engine; store/postgres/processing-engine.ts the PostgreSQL one. Calls
 * answer promises so that an engine on a network database can wait on it. The SQLite
 * engine answers them already settled: its transactions stay synchronous on the writer
 * thread, and nothing that arrives as a message (an inbox append) runs inside a pass.
 */
import type { EventRow } from "../events/event-row";
import type { InboxJob } from "../domain/inbox";
import type { Notice, StateEffect } from "../domain/effects";
import type { StatKind } from "../domain/stats";
import type { IdentityRow } from "../domain/identity";

export interface ProcessingEngine {
  /** Leases up to `limit` pending jobs (or jobs whose lease expired), counting the attempt; bodies and progress included. */
  claim(token: string, leaseUntil: number, now: number, limit: number): Promise<InboxJob[]>;
  /**
   * One transaction: reads what `input` names, calls `plan` (pure) with it, writes its
   * `writes`, then runs `after` (work that needs the batch stored, in the same
   * transaction). Rejects, rolling everything back, if any step throws.
   */
  commit<T extends { writes: BatchWrites }>(input: BatchInput, plan: (snapshot: Snapshot) => T, after?: (planned: T) => void): Promise<T>;
  /** Gives claimed jobs back untouched: their attempts are not counted. */
  release(ids: readonly number[], token: string): Promise<void>;
  /** `pending` retries later (the attempt is already counted); `dead` stops. */
  fail(id: number, token: string, state: "pending" | "dead", error: string, now: number): Promise<boolean>;
  /** Keeps a job leased for longer (one processed over many passes). */
  extend(id: number, token: string, leaseUntil: number): Promise<boolean>;
  /** Returns jobs leased by an earlier run of this instance to the queue (their attempt stays counted). */
  recoverLeases(instance: string): Promise<number>;
  /** How long the oldest job not yet done has waited (0 when none waits). */
  backlogAgeMs(now: number): Promise<number>;
  /** Display number and phone number id of the newest stored events that carry both, newest first (worker/phone-numbers.ts). */
  recentNumbers(): Promise<{ display: string; id: string }[]>;
}

/** A batch as the engine sees it: which jobs, which new events' keys, which state to read. */
export interface BatchInput {
  token: string;
  now: number;
  jobs: readonly number[];
  /** Every event the jobs produced this pass, in order: its proposed id and dedup key. */
  keys: readonly { job: number; id: string; key: string }[];
  /** Outbound messages whose current status the batch's statuses move. */
  wamids: readonly string[];
  /** Values the batch's notices are judged against. */
  notices: readonly NoticeKey[];
  /** Ids the batch's identity changes name: their persons' rows are read. */
  identities: readonly string[];
}

export interface NoticeKey {
  subject: Notice["subject"];
  id: string;
  attribute: Notice["attribute"];
}

export const noticeKey = (n: NoticeKey) => `${n.subject}\u0000${n.id}\u0000${n.attribute}`;

/** What the engine read, inside the batch's transaction, for `plan`. */
export interface Snapshot {
  /** Jobs still leased to this token (a slow pass may have lost one to another run). */
  held: ReadonlySet<number>;
  /** Proposed event ids whose key was seen for the first time: the others are duplicates (already counted). */
  fresh: ReadonlySet<string>;
  /** By wamid: the message's status, and whether a status with pricing was stored for it. */
  outbound: ReadonlyMap<string, { status: string; priced: boolean }>;
  /** By noticeKey(): the current value and the time of the notice that set it. */
  notices: ReadonlyMap<string, { value: string | null; at: number | null }>;
  /** Every stored identity row of the persons of BatchInput.identities (domain/identity.ts). */
  identities: readonly IdentityRow[];
}

type StatusEffect = Extract<StateEffect, { kind: "status" }>;

/** Everything a batch writes, decided: the engine only stores it. */
export interface BatchWrites {
  events: EventRow[];
  deliveries: { eventId: string; hook: string }[];
  /** In arrival order; `next` is the message's status after it (statuses only move forward); `receivedAt`: when its webhook arrived. */
  statuses: { effect: StatusEffect; next: string; eventId: string; receivedAt: number }[];
  inbound: { wamid: string; eventId: string; phoneNumberId: string | null; sender: string | null; kind: string; sentAt: number | null; receivedAt: number }[];
  /** One per person: the latest time seen in the batch. */
  contacts: { waId: string; seenAt: number | null }[];
  /** One per template: names and languages as last given, the category as first given. */
  templates: { templateId: string; name: string | null; language: string | null; category: string | null }[];
  /** Every notice kept in the history, in order; the engine sets values (and their mirrored columns) from the applied ones. */
  notices: { notice: Notice; eventId: string; applied: boolean; receivedAt: number }[];
  /** Identity rows new or changed (domain/identity.ts linkIdentities), by id. */
  identities: IdentityRow[];
  /** Per-minute counts: [kind, unix ms, key, n]. */
  tallies: [StatKind, number, string, number][];
  /** Jobs finished this pass; jobs left for the next (with how many events are stored); jobs whose progress row goes; jobs given up. */
  done: number[];
  progress: { id: number; position: number }[];
  clearProgress: number[];
  /** Jobs that cannot be processed (not JSON, out of attempts), with why. */
  dead: { id: number; error: string }[];
}
