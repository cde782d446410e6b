/**
 * The per-message state machine of SMS fallback (docs/fallback.md). Pure: each function
 * takes the tracked row and returns the next one; sweeper/tracker.ts stores it, with
 * its fallback row and timeline, in one transaction. Nothing moves backwards: a state
 * not listed as a source of a move simply stays.
 *
 *   tracked → done                               proof of delivery (delivered, read, played)
 *   tracked → (stale) → fallback_pending         deadline passed, or a failure the policy sends at once
 *   tracked → expired_unsent | not_sent | no_text | shadowed
 *   fallback_pending | sending → cancelled_delivered   proof of delivery while the SMS has not gone out
 *   fallback_pending → sending → fallback_sent | fallback_failed | unknown
 *   fallback_pending | sending → expired_unsent | unknown   the sender took it past not_after
 *   fallback_sent | unknown → late_delivered     proof of delivery after the SMS
 */
import type { FallbackSettings } from "../config/schema";
import { parseDuration } from "../config/duration";
import { categoryAllowed } from "../domain/fallback-policy";
import { familyOf, normalizeCategory } from "../domain/pricing";
import { pastNotAfter, type TrackedRow } from "../domain/tracked";
import { fill } from "../domain/sms-template";

export type Settings = Pick<FallbackSettings, "mode" | "categories" | "unknown_category" | "stale_after" | "stale_after_by_category" | "not_after" | "default_text">;

/**
 * The deadline counts from Meta's `sent` timestamp, or from registration until a
 * `sent` arrives; the per-message wait, else the category's (or its family's), else the default.
 */
export function withDeadline(row: TrackedRow, settings: Settings): TrackedRow {
  const base = row.sent_at ?? row.registered_at;
  if (base === null || row.state !== "tracked") return row;
  const category = row.category ? normalizeCategory(row.category) : null;
  // A wait set for the family (`authentication`) holds for its sends priced apart (`authentication-international`).
  const waits = settings.stale_after_by_category;
  const byCategory = category !== null ? (waits[category] ?? waits[familyOf(category)]) : undefined;
  const staleAfter = row.stale_after_ms ?? parseDuration(byCategory ?? settings.stale_after)!;
  const notAfter = row.not_after_ms ?? parseDuration(settings.not_after)!;
  return { ...row, deadline: base + staleAfter, expires_at: base + notAfter };
}

/**
 * A proof of delivery (delivered, read, played) with Meta's timestamp. `smsCancelled`:
 * the SMS had not gone out yet and was cancelled with this move. The deadline is kept:
 * the outage guard counts every message whose deadline fell in a sweep's window.
 */
export function onDelivered(row: TrackedRow, at: number | null, smsCancelled: boolean): TrackedRow {
  const delivered = { ...row, delivered_at: row.delivered_at ?? at };
  if (smsCancelled) return { ...delivered, state: "cancelled_delivered" };
  switch (row.state) {
    case "tracked":
      return { ...delivered, state: "done" };
    case "fallback_sent":
    case "unknown":
      return { ...delivered, state: "late_delivered" };
    default:
      // sending: the SMS is on its way; the sender moves it to late_delivered when it lands.
      return delivered;
  }
}

export interface Decision {
  row: TrackedRow;
  /** Why nothing is sent, for the timeline and the event. */
  why?: string;
  /** The SMS text, when one is to be sent (or shadowed). */
  text?: string;
}

/**
 * Whether the app told us about the message: registered it (POST /v1/outbound) or gave
 * instructions in biz_opaque_callback_data (its own text or waits). Such a message with
 * no category falls back (the app asked for it); one seen only through its statuses does
 * not, unless `fallback.unknown_category = "send"`: since July 2025 Meta prices a message
 * on `delivered` or `read`, never on `sent` or `failed`, so an undelivered one's category
 * is unknown and it could be marketing.
 */
const describedByApp = (row: TrackedRow, registered: boolean): boolean =>
  registered || row.text !== null || row.stale_after_ms !== null || row.not_after_ms !== null;

/** No category known, the app did not describe the message, and unknown_category says skip: no SMS (yet: a registration may describe it). */
export const unknownCategoryStops = (row: TrackedRow, settings: Pick<Settings, "unknown_category">, registered: boolean): boolean =>
  row.category === null && settings.unknown_category === "skip" && !describedByApp(row, registered);

export const UNKNOWN_CATEGORY =
  'category unknown (Meta prices a message on delivered or read, not on sent or failed) and the app did not describe it: register it (POST /v1/outbound with its category), give instructions in biz_opaque_callback_data, or set fallback.unknown_category = "send"';

/**
 * The deadline passed or a failure calls for an SMS now: decide what happens. Guards
 * first (never, category, no phone number, expired), then the text; shadow mode
 * records what would be sent. `registered`: the app registered the message (unknownCategoryStops).
 */
export function decideFallback(row: TrackedRow, reason: "stale" | "failed", errorCode: number | null, now: number, settings: Settings, registered: boolean): Decision {
  const decided = { ...row, reason, error_code: errorCode ?? row.error_code };
  if (row.fallback === "never") return { row: { ...decided, state: "not_sent" }, why: "the app said fallback = never" };
  if (unknownCategoryStops(row, settings, registered)) return { row: { ...decided, state: "not_sent" }, why: UNKNOWN_CATEGORY };
  if (!categoryAllowed(row.category, settings)) return { row: { ...decided, state: "not_sent" }, why: `category ${row.category} is not in fallback.categories` };
  if (!row.recipient) return { row: { ...decided, state: "not_sent" }, why: "no phone number to send an SMS to (username user)" };
  if (pastNotAfter(row.expires_at, now)) return { row: { ...decided, state: "expired_unsent" }, why: "past not_after" };
  const text = smsText(decided, settings);
  if (!text) return { row: { ...decided, state: "no_text" }, why: noTextWhy(settings) };
  return { row: { ...decided, state: settings.mode === "shadow" ? "shadowed" : "fallback_pending" }, text };
}


/**
 * The sender took an SMS past its message's not_after (the daemon was down between the
 * decision, or a retry, and the send): it is not sent. Nothing went out, so the message
 * is expired_unsent and its SMS `expired`; unless an earlier request for it may have
 * reached the provider (`retaken`: the claim of a run that stopped mid-request), which
 * leaves it unknown. An `unknown` SMS resent by hand stays unknown.
 */
export function onExpiredClaim(row: TrackedRow, retaken: boolean): { row: TrackedRow; sms: "expired" | "unknown"; why: string } {
  const past = "past not_after when the sender took it";
  const open = row.state === "fallback_pending" || row.state === "sending";
  if (open && !retaken) return { row: { ...row, state: "expired_unsent" }, sms: "expired", why: `${past}: not sent, an SMS never goes after it` };
  const why = `${past}: not resent; an earlier request ${retaken ? "(of a run that stopped before its answer) " : ""}may have reached the provider`;
  return { row: open ? { ...row, state: "unknown" } : row, sms: "unknown", why };
}

/**
 * The SMS text. The message's own text (registration `text`, or `sms` in
 * biz_opaque_callback_data), wrapped in `fallback.default_text` when that holds
 * {{text}} ("We could not reach you on WhatsApp: {{text}}"); with no own text, the
 * default text only if it needs none. Its other placeholders are filled either way
 * ({{wamid}}, {{category}}…, as in the request body). Otherwise null: never an empty SMS.
 */
export function smsText(row: TrackedRow, settings: Settings): string | null {
  const template = settings.default_text ?? null;
  const own = row.text || null;
  if (template === null) return own;
  // A wrapper needs a text to wrap; a text of the message's own needs no stand-in.
  if (TEXT_PLACEHOLDER.test(template) ? own === null : own !== null) return own;
  return fill(template, { to: row.recipient ?? "", text: own ?? "", wamid: row.wamid, reason: row.reason ?? "", error_code: row.error_code, category: row.category });
}
const TEXT_PLACEHOLDER = /\{\{\s*text\s*\}\}/;

const noTextWhy = (settings: Settings) =>
  settings.default_text === undefined
    ? "no SMS text: the message has none of its own (registration text, or sms in biz_opaque_callback_data) and fallback.default_text is not set"
    : "no SMS text: the message has none of its own, and fallback.default_text holds {{text}}, so it only wraps one";
