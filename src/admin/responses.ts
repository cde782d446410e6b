/**
 * The admin API's answers as zod schemas: the OpenAPI document's response bodies
 * (http/openapi.ts). The end-to-end tests parse every answer the daemon gives with
 * these, so the document and the code cannot drift apart.
 */
import { z } from "zod";
import { EventEnvelope } from "../events/envelope";
import { DELIVERY_STATES } from "./params";

const time = z.iso.datetime().describe("RFC 3339, UTC");
const maybeTime = time.nullable();
const counts = (what: string) => z.record(z.string(), z.int()).describe(what);

export const Problem = z
  .strictObject({
    error: z.string().describe("A stable code: bad_request, not_found, unauthorized, not_dead, storage_unavailable, internal_error, …"),
    reason: z.string().describe("What was wrong, naming the parameter or field"),
  })
  .meta({ example: { error: "bad_request", reason: "limit: expected a whole number from 1 to 500" } });

const listOf = <T extends z.ZodType>(item: T) =>
  z.strictObject({
    data: z.array(item),
    next_cursor: z.string().nullable().describe("Pass as `cursor` for the next (older) page; null on the last page"),
  });

const Envelope = EventEnvelope;

export const EventPage = listOf(Envelope);

const DeliveryAttempts = z.object({
  id: z.int(),
  hook: z.string(),
  state: z.enum(DELIVERY_STATES).describe("cancelled: an orphaned delivery the operator gave up (never sent)"),
  attempts: z.int(),
  next_attempt_at: maybeTime.describe("When it is tried next (pending only)"),
  last_status: z.int().nullable().describe("The hook's last HTTP status"),
  last_error: z.string().nullable(),
  last_response: z.string().nullable().describe("The start of the hook's last answer"),
  created_at: maybeTime,
  updated_at: maybeTime,
});

export const EventDetail = z.strictObject({
  event: Envelope,
  webhook: z
    .strictObject({
      inbox_id: z.int(),
      received_at: maybeTime,
      signature: z.string().nullable().describe("X-Hub-Signature-256 as received"),
      user_agent: z.string().nullable(),
      remote_addr: z.string().nullable(),
      state: z.string(),
      body: z.string().describe("The POST body byte for byte (UTF-8), or base64"),
      body_encoding: z.enum(["utf-8", "base64"]),
    })
    .nullable()
    .describe("The webhook the event came from; null for events the daemon raised itself"),
  deliveries: z.array(DeliveryAttempts.strict()),
});

export const DeliveryPage = listOf(
  DeliveryAttempts.extend({
    event_id: z.string(),
    event_type: z.string(),
    orphaned: z.boolean().describe("Open (pending, delivering, dead, disabled) and its hook is no longer run by the daemon: nothing sends it; cancel or move it (POST /v1/deliveries/orphaned)"),
  }).strict(),
);

const openCounts = { pending: z.int(), delivering: z.int(), dead: z.int(), disabled: z.int() };

export const OrphansResolved = z.strictObject({
  cancelled: counts("Orphaned deliveries taken off their hook, by hook"),
  moved_to: z.string().nullable().describe("move: the hook that got them"),
  queued: z.int().describe("move: deliveries queued to that hook (fewer when it already had some of the events)"),
});

export const DeliveryRetried = z.strictObject({ id: z.int(), state: z.literal("pending") });

export const ReplayResult = z.strictObject({
  events: z.int().describe("Events selected"),
  queued: counts("Deliveries queued, by hook"),
  deliveries: z.int().describe("Deliveries queued in all"),
  next_cursor: z.string().nullable().describe("More events match: post the same body with this `cursor` to queue the next ones; null when all are queued"),
});

export const InboxPage = listOf(
  z.strictObject({
    id: z.int(),
    received_at: maybeTime,
    state: z.enum(["pending", "processing", "done", "dead"]),
    attempts: z.int(),
    last_error: z.string().nullable().describe("Why the worker could not process it"),
    processed_at: maybeTime,
    parseable: z.boolean().describe("Whether the body is JSON"),
    bytes: z.int(),
    body_preview: z.string().describe("The first 2 KiB of the body"),
  }),
);

export const Reprocessed = z.strictObject({ id: z.int(), revived: z.boolean() });

export const Contact = z.strictObject({
  wa_id: z.string().describe("The id asked for"),
  identity: z
    .strictObject({
      wa_id: z.string().nullable().describe("Their current number (the newest user_changed_number by Meta's clock)"),
      user_id: z.string().nullable().describe("Their current business-scoped user id (the newest user.id_changed)"),
      parent_user_id: z.string().nullable(),
      ids: z.array(z.string()).describe("Every id they had: a lookup or an erasure by any of them finds them all"),
    })
    .describe("The person behind the id"),
  profile_name: z.string().nullable(),
  marketing_opt_out: z.boolean().describe("Marketing stopped (error 131050 or a user_preferences stop)"),
  last_seen_at: maybeTime,
  updated_at: maybeTime,
  recent_messages: z.array(
    z.strictObject({
      wamid: z.string(),
      direction: z.enum(["inbound", "outbound"]),
      kind: z.string().optional().describe("Inbound: the message type"),
      status: z.string().optional().describe("Outbound: the latest status"),
      at: maybeTime,
    }),
  ),
});

export const ContactErased = z.strictObject({
  wa_id: z.string().describe("The number's digits"),
  erased: z.strictObject({
    events: z.int(),
    events_mentioning: z.int().describe("Of those, events not about them whose envelope mentions their number (a message quoting it, an unknown field's value)"),
    deliveries: z.int(),
    dedup_keys: z.int(),
    statuses: z.int(),
    messages: z.int(),
    fallback: z.int(),
    state: z.int(),
    contact: z.int(),
    webhooks_deleted: z.int(),
    webhooks_rewritten: z.int().describe("Webhooks that held other people too, rewritten without this one"),
    webhooks_unreadable: z.int().describe("Of the deleted, webhooks that mention the number where no part could be cut out (not JSON, not a WhatsApp envelope, or outside its entries): deleted whole"),
  }),
  storage: z.strictObject({
    freed_pages: z.int().describe("Pages given back to the file system (incremental vacuum)"),
    wal_emptied: z.boolean().describe("The WAL was checkpointed into the file and truncated; false when a reader of the file kept it from finishing"),
  }),
});

export const TemplatePage = listOf(
  z.strictObject({
    template_id: z.string(),
    name: z.string().nullable(),
    language: z.string().nullable(),
    status: z.string().nullable(),
    quality: z.string().nullable(),
    category: z.string().nullable(),
    updated_at: maybeTime,
    history: z.array(
      z.strictObject({
        attribute: z.string(),
        value: z.string().nullable(),
        at: maybeTime.describe("Meta's time for the change"),
        applied: z.boolean().describe("false: an older change that arrived after a newer one"),
        received_at: maybeTime,
      }),
    ),
  }),
);

export const Stats = z.strictObject({
  at: time,
  inbox: counts("Webhooks by state (pending, processing, dead)"),
  worker_lag_ms: z.number().describe("How long the oldest webhook not yet processed has waited"),
  deliveries: z.strictObject({
    hooks: z.record(
      z.string(),
      z.strictObject({
        delivered_last_day: z.int(),
        pending: z.int(),
        delivering: z.int().describe("Claimed by the dispatcher: in flight, or next in line (up to 4 × the hook's concurrency)"),
        dead: z.int(),
        disabled: z.int(),
        oldest_open_age_ms: z.number(),
      }),
    ),
    orphaned: z
      .record(z.string(), z.strictObject(openCounts))
      .describe("Open deliveries of hooks the daemon no longer runs (removed or renamed): nothing sends them; cancel or move them"),
  }),
  events: z.strictObject({ last_hour: counts("Events by type"), last_day: counts("Events by type") }),
  duplicates_last_day: z.int().describe("Webhook items Meta sent again, recognised and not processed twice"),
  funnel_last_day: z.strictObject({
    sent: z.int(),
    delivered: z.int(),
    read: z.int(),
    played: z.int(),
    failed: z.int(),
    failed_by_code: z.array(z.strictObject({ code: z.int().nullable(), messages: z.int() })),
  }),
  billable_by_day: z.array(z.strictObject({ day: z.string(), category: z.string().nullable(), messages: z.int() })),
  fallback: z.strictObject({ tracked: counts("Tracked messages not done, by state"), sms: counts("SMS by state") }),
});

export const StatsDays = z.strictObject({
  days: z
    .array(
      z.strictObject({
        day: z.iso.date().describe("A UTC day"),
        events: counts("Events by type (only types seen that day)"),
        statuses: counts("Status events by status: sent, delivered, read and failed always, others when seen"),
        failed_by_code: z.array(z.strictObject({ code: z.int().nullable().describe("Meta's error code; null when the status named none"), messages: z.int() })).describe("Most first"),
        billable: counts("Billable messages by pricing category, lower case with _ (none: a billable status without a category), counted on their first priced status that bills: pricing.billable, else pricing.type regular"),
        deliveries: z
          .record(z.string(), z.strictObject({ delivered: z.int().describe("Done that day"), dead: z.int().describe("Given up that day and still dead") }))
          .describe("Every hook the daemon runs, and any other that had deliveries done or dead that day"),
        sms: counts("Fallback SMS by outcome that day: sent, failed, unknown and cancelled always; expired and shadow when seen"),
      }),
    )
    .describe("Oldest first, the last one today; every day present even when nothing happened"),
});

export const DeadRetried = z.strictObject({ hook: z.string(), retried: z.int().describe("Dead deliveries due again now (0 when it had none)") });

export const AlertPage = listOf(
  z.strictObject({
    id: z.int(),
    kind: z.string().describe("domain/alert.ts: template.paused, phone_number.quality, hook.dead, …"),
    severity: z.enum(["critical", "warning"]),
    title: z.string(),
    text: z.string().describe("What happened and what to do"),
    data: z.record(z.string(), z.unknown()).describe("The facts: ids, names, codes (never a person's number)"),
    state: z.enum(["pending", "sending", "sent", "dead", "recorded"]).describe("recorded: kept and logged, not sent"),
    attempts: z.int(),
    last_status: z.int().nullable().describe("The alert sink's last HTTP status"),
    last_error: z.string().nullable(),
    created_at: maybeTime,
    sent_at: maybeTime,
  }),
);

const iso = (description: string) => maybeTime.describe(description);

export const Tracked = z
  .strictObject({
    wamid: z.string(),
    to: z.string().nullable(),
    category: z.string().nullable(),
    state: z.string().describe("tracked, done, stale, fallback_pending, sending, fallback_sent, … (docs/fallback.md)"),
    fallback: z.string().nullable(),
    reason: z.string().nullable(),
    error_code: z.int().nullable(),
    sent_at: iso("Meta's `sent` time"),
    registered_at: maybeTime,
    delivered_at: maybeTime,
    deadline: iso("When it goes stale without proof of delivery"),
    expires_at: iso("Past this, never an SMS"),
  })

export const Registered = z.union([Tracked, z.strictObject({ messages: z.array(Tracked) })]);

/**
 * One move of a tracked message: a status Meta sent, or a step of the sweeper with what
 * it knew then. The details differ by move (docs/fallback.md); more may come, so the
 * object is open.
 */
const TimelineMove = z.looseObject({
  state: z.string(),
  at: maybeTime,
  source: z.enum(["status", "sweeper"]),
  why: z.string().optional().describe("Why the sweeper sent nothing, or why the SMS waits (`waiting`), or which number it goes to (`recipient_mismatch`)"),
  errors: z.array(z.unknown()).optional().describe("A failed status's errors, as the event carries them"),
  deadline: maybeTime.optional().describe("`stale`: the deadline that passed"),
  reason: z.string().optional().describe("What decided it: `stale` or `failed`"),
  error_code: z.number().nullable().optional(),
  delivered_at: maybeTime.optional(),
  delay_ms: z.number().optional().describe("`late_delivered`: from the SMS to WhatsApp's delivery"),
  false_stale: z.boolean().optional().describe("`late_delivered`: Meta's delivery time was before the deadline (the status came late)"),
  shadow: z.boolean().optional().describe("`late_delivered` in shadow mode: the SMS that would have gone"),
  provider_status: z.number().nullable().optional().describe("The SMS provider's HTTP status"),
  attempts: z.number().optional(),
  next_attempt_at: maybeTime.optional(),
  not_after: maybeTime.optional(),
  error: z.string().optional().describe("The SMS attempt's last error"),
});

export const Message = z.strictObject({
  wamid: z.string(),
  direction: z.enum(["inbound", "outbound"]),
  status: z.string().optional(),
  errors: z.array(z.unknown()).nullable().optional(),
  pricing: z.record(z.string(), z.unknown()).nullable().optional(),
  phone_number_id: z.string().nullable().optional(),
  recipient_id: z.string().nullable().optional().describe("Who an outbound message went to, as Meta's statuses say (a group's id for a group send)"),
  biz_opaque_callback_data: z.string().nullable().optional().describe("What the app attached when it sent the message, as Meta echoes it"),
  inbound: z.record(z.string(), z.unknown()).optional(),
  statuses: z.array(z.record(z.string(), z.unknown())),
  fallback: Tracked.extend({
    sms: z.record(z.string(), z.unknown()).nullable(),
    timeline: z.array(TimelineMove),
  }).nullable(),
});

export const FallbackResolved = z.strictObject({ wamid: z.string(), action: z.enum(["resend", "mark-sent"]) });

const Job = z.strictObject({
  name: z.string(),
  schedule: z.string().describe("croner pattern"),
  running: z.boolean(),
  last_started_at: maybeTime,
  last_finished_at: maybeTime,
  last_result: z.unknown(),
  last_error: z.string().nullable(),
  runs: z.int(),
  failures: z.int(),
  next_run: maybeTime,
  held_since: maybeTime.optional().describe("stale only: when the sweep was held (too many stale at once)"),
  last_instance: z.string().nullable().optional().describe('storage.engine = "postgres": the instance that ran the last run'),
});
export const Jobs = z.strictObject({ jobs: z.array(Job) });
export const JobRun = z.object({ ran: z.literal(true) }).loose();
export const Resumed = z.strictObject({ resumed: z.literal(true) });
