/**
 * The admin API's query parameters, as zod schemas: they validate requests and are
 * the OpenAPI document's parameters. Lists page newest first with an opaque cursor
 * (the last item's key, base64url) and `limit` (default 50, at most 500).
 */
import { z } from "zod";
import { EVENT_TYPES } from "../events/types";
import { globMatcher } from "../events/type-glob";

/** No type or kind is longer than a few dozen characters: a longer glob is a mistake or an attack. */
const GLOB_MAX = 200;
const GLOB_TOO_LONG = `expected a name or a glob of at most ${GLOB_MAX} characters`;

export const MAX_LIMIT = 500;
const LIMIT_RANGE = `expected a whole number from 1 to ${MAX_LIMIT}`;

const TIME = "expected an RFC 3339 time such as 2026-11-23T10:00:00Z or a date such as 2026-11-23 (midnight UTC)";
/** As the CLI takes them: RFC 3339 with an offset, or a date (midnight UTC; Date.parse reads it so). */
/** Events one POST /v1/replay queues at most: each call is one transaction on the thread that also commits webhooks. */
export const MAX_REPLAY = 10_000;
const REPLAY_RANGE = `expected a whole number from 1 to ${MAX_REPLAY}`;

const rfc3339 = z.union([z.iso.datetime({ offset: true }), z.iso.date()], { error: TIME });

/** A whole number written in decimal digits: no hex (0x10), exponent (1e2), sign or blank, which Number() would take. */
const decimal = (range: string, min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]{1,6}$/, range)
    .transform(Number)
    .pipe(z.int().min(min, range).max(max, range));

export const ListQuery = z.object({
  limit: decimal(LIMIT_RANGE, 1, MAX_LIMIT).default(50).describe(`Items per page (1–${MAX_LIMIT})`),
  cursor: z.string().min(1).optional().describe("next_cursor of the previous page"),
});

export const EventsQuery = ListQuery.extend({
  type: z.string().min(1).max(GLOB_MAX, GLOB_TOO_LONG).optional().describe("An event type, or a glob on types such as message.*"),
  phone_number_id: z.string().min(1).optional(),
  wamid: z.string().min(1).optional(),
  from: z.string().min(1).optional().describe("The person's wa_id: an inbound message's sender or a status's recipient"),
  since: rfc3339.optional().describe("received at or after (RFC 3339, or a date: midnight UTC)"),
  until: rfc3339.optional().describe("received before (RFC 3339, or a date: midnight UTC)"),
});
export type EventsQuery = z.infer<typeof EventsQuery>;

/** The stream takes the same filters, without paging. */
export const StreamQuery = EventsQuery.omit({ limit: true, cursor: true });

export const DELIVERY_STATES = ["pending", "delivering", "done", "dead", "disabled", "cancelled"] as const;

export const DeliveriesQuery = ListQuery.extend({
  state: z.enum(DELIVERY_STATES).optional(),
  hook: z.string().min(1).optional().describe("A hook the daemon runs, or one it no longer runs that still has deliveries"),
  orphaned: z
    .enum(["true", "false"], { error: 'expected "true" or "false"' })
    .transform((v) => v === "true")
    .optional()
    .describe("true: only open deliveries (pending, delivering, dead, disabled) of hooks the daemon no longer runs (removed or renamed); false: only those of hooks it runs"),
});
export type DeliveriesQuery = z.infer<typeof DeliveriesQuery>;

export const InboxQuery = ListQuery.extend({
  state: z.enum(["pending", "processing", "done", "dead"]).default("dead"),
});
export type InboxQuery = z.infer<typeof InboxQuery>;

export const AlertsQuery = ListQuery.extend({
  kind: z.string().min(1).max(GLOB_MAX, GLOB_TOO_LONG).optional().describe("An alert kind, or a glob on kinds such as template.*"),
  state: z.enum(["pending", "sending", "sent", "dead", "recorded"]).optional().describe("recorded: kept and logged, not sent (no [alerts] url, or a kind it does not want)"),
  since: rfc3339.optional().describe("raised at or after (RFC 3339, or a date: midnight UTC)"),
  until: rfc3339.optional().describe("raised before (RFC 3339, or a date: midnight UTC)"),
});
export type AlertsQuery = z.infer<typeof AlertsQuery>;

/** Days GET /v1/stats/days shows at most: a month (the per-minute counts are kept as long as storage.retention, 30 days by default, at least 8). */
export const MAX_STATS_DAYS = 31;
const DAYS_RANGE = `expected a whole number from 1 to ${MAX_STATS_DAYS}`;

export const StatsDaysQuery = z.object({
  days: decimal(DAYS_RANGE, 1, MAX_STATS_DAYS).default(7).describe(`UTC days, the last one today (1–${MAX_STATS_DAYS})`),
});

export const ReplayBody = z.strictObject({
  type: z.string().min(1).max(GLOB_MAX, GLOB_TOO_LONG).optional().describe("An event type or a glob (message.*); absent: every type"),
  since: rfc3339.describe("received at or after"),
  until: rfc3339.optional().describe("received before; absent: now"),
  hook: z.string().min(1).optional().describe("Only this hook; absent: every hook whose filters want the event"),
  limit: z
    .int(REPLAY_RANGE)
    .min(1, REPLAY_RANGE)
    .max(MAX_REPLAY, REPLAY_RANGE)
    .default(1000)
    .describe(`Events queued by this call at most, oldest first (1–${MAX_REPLAY}); more: the answer's next_cursor is set`),
  cursor: z.string().min(1).optional().describe("next_cursor of the previous call with the same body: queues the next events"),
});
export const OrphansBody = z.discriminatedUnion(
  "action",
  [
    z.strictObject({ action: z.literal("cancel"), hook: z.string().min(1).optional().describe("Only this hook's; absent: every hook's") }),
    z.strictObject({
      action: z.literal("move"),
      to: z.string().min(1).describe("A hook the daemon runs; it gets the events, even those its filters exclude"),
      hook: z.string().min(1).optional().describe("Only this hook's; absent: every hook's"),
    }),
  ],
  { error: 'expected "cancel" or "move"' },
);

export const RetryDeadBody = z.strictObject({ hook: z.string().min(1).describe("A hook the daemon runs: every one of its dead deliveries is retried") });

export const EventReplayBody = z.strictObject({ hook: z.string().min(1).optional().describe("Only this hook, even if its filters exclude the event") });
export const FallbackAction = z.strictObject({ action: z.enum(["resend", "mark-sent"], { error: 'expected "resend" or "mark-sent"' }) });

/** Cursors are opaque to clients: the key of the last item shown. */
export const encodeCursor = (key: string | number) => Buffer.from(String(key)).toString("base64url");

export function decodeCursor(cursor: string, looksRight: (key: string) => boolean): string | null {
  const key = Buffer.from(cursor, "base64url").toString();
  return looksRight(key) ? key : null;
}

const isRowId = (key: string) => /^[1-9][0-9]{0,15}$/.test(key);

/** A cursor over rows keyed by an integer id: the id, null for the first page, "bad" for one we did not give out. */
export function rowCursor(cursor: string | undefined): number | null | "bad" {
  if (cursor === undefined) return null;
  const key = decodeCursor(cursor, isRowId);
  return key === null ? "bad" : Number(key);
}

/** A type or glob → the event types (or other `names`) it names; null when it names none. */
export function expandTypes(glob: string, names: readonly string[] = EVENT_TYPES): string[] | null {
  const matcher = globMatcher(glob);
  const types = names.filter((t) => matcher.test(t));
  return types.length > 0 ? types : null;
}
