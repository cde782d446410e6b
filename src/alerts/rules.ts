/**
 * Which events deserve an operator's attention, and what to tell them (pure). An
 * event-derived alert is keyed by the event's own dedup key: Meta sending the same
 * notice twice is one event, so one alert. Failure codes that are the business's
 * problem (payment, template paused, account locked…) fail every message alike:
 * one alert per code and phone number per hour, not one per message. A notice older than
 * the current state (`state_changed: false`) raises none.
 */
import type { AlertDraft } from "../domain/alert";
import type { GivenUp } from "../domain/delivery";
import { compareTiers, currentLimit, limitTier } from "../whatsapp/messaging-limit";

export interface AlertSource {
  type: string;
  data: Record<string, unknown>;
  dedupKey: string;
  phoneNumberId: string | null;
  wabaId: string | null;
}

const HOUR_MS = 3_600_000;

/** Failure codes that are the business's to fix (../shared/reference: class B, "+ alert"). */
const BUSINESS_ERROR_CODES = new Set([0, 3, 10, 190, 368, 131005, 131031, 131037, 131042, 131045, 131048, 131064, 132015, 132016]);
const isBusinessError = (code: number) => BUSINESS_ERROR_CODES.has(code) || (code >= 200 && code <= 299);

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : null);
const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/**
 * Every alert an event raises: one, or none; a FLAGGED notice that also lowers the limit
 * raises both of its kinds, so that an `alerts.events` filter on either sees it.
 */
export function alertsForEvent(e: AlertSource, now: number): AlertDraft[] {
  // A notice older than the state it would replace (a PAUSED retried after the later
  // APPROVED) changed nothing: what it says is no longer true, so no one is paged for it.
  if (e.data.state_changed === false) return [];
  if (e.type === "phone_number.quality") return phoneQuality(e).map((d) => naming(d, e));
  const one = oneAlert(e, now);
  return one ? [naming(one, e)] : [];
}

/** One operator often runs several accounts: the text says which one Meta meant. */
const naming = (draft: AlertDraft, e: AlertSource): AlertDraft => (e.wabaId === null ? draft : { ...draft, text: `${draft.text} WhatsApp Business Account ${e.wabaId}.` });

/** The first alert the event raises (null: none). */
export const alertForEvent = (e: AlertSource, now: number): AlertDraft | null => alertsForEvent(e, now)[0] ?? null;

function oneAlert(e: AlertSource, now: number): AlertDraft | null {
  switch (e.type) {
    case "template.status":
      return templateStatus(e);
    case "account.update":
      return accountUpdate(e);
    case "account.alert":
      return accountAlert(e);
    case "message.status":
      return businessError(e, now);
  }
  return null;
}

const TEMPLATE_ADVICE: Record<string, { kind: AlertDraft["kind"]; severity: AlertDraft["severity"]; advice: string }> = {
  PAUSED: {
    kind: "template.paused",
    severity: "critical",
    advice: "Sends with it fail with error 132015 until it is unpaused. Check its quality rating in WhatsApp Manager and what recipients reported; a pacing pause needs a manual unpause.",
  },
  DISABLED: {
    kind: "template.disabled",
    severity: "critical",
    advice: "Sends with it fail with error 132016 for good. Create a new template (new name) with improved content, and switch the app over to it.",
  },
  REJECTED: { kind: "template.rejected", severity: "warning", advice: "It cannot be sent. Fix what the reason names and submit it again, or appeal in WhatsApp Manager." },
  FLAGGED: { kind: "template.flagged", severity: "warning", advice: "Its quality is low: it will be paused if it stays low. Review the content and who receives it." },
};

function templateStatus(e: AlertSource): AlertDraft | null {
  const event = str(e.data.event)?.toUpperCase();
  const rule = event ? TEMPLATE_ADVICE[event] : undefined;
  if (!rule) return null;
  const name = str(e.data.message_template_name) ?? "(unnamed)";
  const language = str(e.data.message_template_language);
  const category = str(e.data.message_template_category);
  const reason = str(e.data.reason);
  const info = obj(e.data.other_info);
  const rejection = obj(e.data.rejection_info);
  const detail = [reason && reason !== "NONE" ? `reason ${reason}` : null, str(info.title), str(info.description), str(rejection.reason), str(rejection.recommendation)]
    .filter((s) => s !== null)
    .join("; ");
  const what = `${[language, category].filter((s) => s !== null).join(", ")}`;
  return {
    kind: rule.kind,
    key: `event:${e.dedupKey}`,
    severity: rule.severity,
    title: `WhatsApp template "${name}" ${event}`,
    text: `Meta set template "${name}"${what ? ` (${what})` : ""} to ${event}${detail ? `: ${detail.replace(/\.$/, "")}` : ""}. ${rule.advice}`,
    data: { template_id: str(e.data.message_template_id), name, language, category, event, reason, other_info: e.data.other_info ?? null, waba_id: e.wabaId },
  };
}

/** A lowered limit (DOWNGRADE, or below `old_limit`), a FLAGGED quality, or both. */
function phoneQuality(e: AlertSource): AlertDraft[] {
  const event = str(e.data.event)?.toUpperCase() ?? null;
  const current = currentLimit(e.data);
  // Meta's old_limit, else the limit this number had as we knew it (worker/plan.ts previous_limit: old_limit is gone since February 2026).
  const old = limitTier(e.data.old_limit) ?? limitTier(e.data.previous_limit);
  const lowered = event === "DOWNGRADE" || (current !== null && old !== null && (compareTiers(current, old) ?? 0) < 0);
  const number = str(e.data.display_phone_number) ?? e.phoneNumberId ?? "(unknown number)";
  const data = { display_phone_number: number, event, current_limit: current, old_limit: old, waba_id: e.wabaId };
  const alerts: AlertDraft[] = [];
  if (lowered) {
    alerts.push({
      kind: "phone_number.limit",
      key: `event:${e.dedupKey}`,
      severity: "critical",
      title: `WhatsApp messaging limit lowered for ${number}`,
      text: `Meta lowered the messaging limit of ${number}${old ? ` from ${old}` : ""}${current ? ` to ${current}` : ""}. Business-initiated conversations beyond it fail; slow campaigns down and check the number's quality rating.`,
      data,
    });
  }
  if (event === "FLAGGED") {
    alerts.push({
      kind: "phone_number.quality",
      // Beside a limit alert of the same event, a key of its own.
      key: lowered ? `event:${e.dedupKey}:quality` : `event:${e.dedupKey}`,
      severity: "warning",
      title: `WhatsApp quality of ${number} flagged`,
      text: `Meta flagged the quality of ${number}${current ? ` (limit ${current})` : ""}. If it stays low for 7 days the messaging limit is lowered: pause marketing sends and review what users block or report.`,
      data,
    });
  }
  return alerts;
}

/** `account_update` events that need someone; the rest (partner added, pricing tier, …) do not. */
function accountUpdate(e: AlertSource): AlertDraft | null {
  const event = str(e.data.event)?.toUpperCase();
  if (event === "ACCOUNT_RESTRICTION") return accountRestricted(e, event);
  if (event === "ACCOUNT_VIOLATION") return accountViolation(e, event);
  if (event === "DISABLED_UPDATE") return accountBanned(e, event);
  if (event !== undefined && Object.hasOwn(DISCONNECTED, event)) return accountDisconnected(e, event);
  if (event === "ACCOUNT_RECONNECTED") return accountReconnected(e, event);
  return null;
}

function accountRestricted(e: AlertSource, event: string): AlertDraft {
  // The typed companion (whatsapp/account-update.ts): a list however Meta wrote it, expirations as ISO times.
  const items = Array.isArray(e.data.restrictions) ? e.data.restrictions.map(obj) : [];
  const types = items.map((r) => str(r.type)).filter((s) => s !== null);
  const until = items.map((r) => str(r.expiration)).find((s) => s !== null);
  const remediation = items.map((r) => str(r.remediation)).find((s) => s !== null) ?? null;
  // Calling restrictions hide the call button; they fail no message.
  const calling = types.length > 0 && types.every((t) => t.includes("CALLING"));
  const effect = calling ? "Users cannot call the business while it lasts." : "Affected sends fail.";
  return {
    kind: "account.restricted",
    key: `event:${e.dedupKey}`,
    severity: "critical",
    title: calling ? "WhatsApp calling restricted on the account" : "WhatsApp Business Account restricted",
    text: `Meta restricted the account${types.length ? `: ${types.join(", ")}` : ""}${until ? ` until ${until}` : ""}. ${effect}${remediation ? ` Meta says: ${remediation}` : ""} See Account Quality in Business Manager for the cause and an appeal.`,
    data: { event, restriction_types: types, expiration: until ?? null, remediation, waba_id: e.wabaId },
  };
}

function accountViolation(e: AlertSource, event: string): AlertDraft {
  const info = obj(e.data.violation_info);
  const type = str(info.violation_type);
  const remediation = str(info.remediation);
  // A low pickup rate is about calls going unanswered, not content: it hides the call button if it goes on.
  const calls = type !== null && type.includes("CALL");
  const text = calls
    ? `Meta recorded that users' calls to the business go unanswered too often (${type}). If it goes on, Meta hides the call button (an ACCOUNT_RESTRICTION): answer more calls, or set call hours in the calling settings.`
    : `Meta recorded a policy violation${type ? ` (${type})` : ""}. Repeated violations restrict or disable the account; review it in Account Quality and appeal if it is wrong.`;
  return {
    kind: "account.violation",
    key: `event:${e.dedupKey}`,
    severity: calls ? "warning" : "critical",
    title: calls ? "WhatsApp calls to the business go unanswered" : "WhatsApp policy violation on the account",
    text: `${text}${remediation ? ` Meta says: ${remediation}` : ""}`,
    data: { event, violation_type: type, remediation, waba_id: e.wabaId },
  };
}

function accountBanned(e: AlertSource, event: string): AlertDraft | null {
  // The typed companion (whatsapp/account-update.ts): the state as a string whichever way Meta wrote it.
  const ban = obj(e.data.ban);
  const state = str(ban.state)?.toUpperCase();
  if (state !== "DISABLE" && state !== "SCHEDULE_FOR_DISABLE") return null;
  const date = str(ban.date);
  return {
    kind: "account.banned",
    key: `event:${e.dedupKey}`,
    severity: "critical",
    title: state === "DISABLE" ? "WhatsApp Business Account disabled" : "WhatsApp Business Account scheduled to be disabled",
    text: `Meta ${state === "DISABLE" ? "disabled" : "scheduled to disable"} the account${date ? ` (${date})` : ""}. Nothing can be sent once it is disabled: request a review in Business Support Home now.`,
    data: { event, ban_state: state, ban_date: date, waba_id: e.wabaId },
  };
}

/** Events after which this app no longer sends or receives for the account: what happened, and what to do. */
const DISCONNECTED: Record<string, { title: string; text: string }> = {
  ACCOUNT_OFFBOARDED: {
    title: "WhatsApp number offboarded",
    text: "The business offboarded the number from this app (in the WhatsApp Business app, coexistence): no more messages or webhooks for it here. It has to be onboarded again to come back (ACCOUNT_RECONNECTED says when it is).",
  },
  PARTNER_REMOVED: {
    title: "WhatsApp partner removed from the account",
    text: "The partner was removed from the account: this app can no longer send or receive for it. Onboard the business again (Embedded Signup) if that was not meant.",
  },
  ACCOUNT_DELETED: { title: "WhatsApp Business Account deleted", text: "The account was deleted: nothing can be sent from its numbers any more." },
};

function accountDisconnected(e: AlertSource, event: string): AlertDraft {
  const rule = DISCONNECTED[event]!;
  const info = obj(e.data.disconnection_info);
  const reason = str(info.reason);
  const by = str(info.initiated_by);
  const why = reason ? ` Reason: ${reason}${by ? `, initiated by ${by}` : ""}.` : "";
  return {
    kind: "account.disconnected",
    key: `event:${e.dedupKey}`,
    severity: "critical",
    title: rule.title,
    text: `${rule.text}${why}`,
    data: { event, reason, initiated_by: by, waba_id: e.wabaId },
  };
}

function accountReconnected(e: AlertSource, event: string): AlertDraft {
  return {
    kind: "account.reconnected",
    key: `event:${e.dedupKey}`,
    severity: "warning",
    title: "WhatsApp number reconnected",
    text: "The number offboarded earlier is connected to this app again: messages and webhooks for it flow again.",
    data: { event, waba_id: e.wabaId },
  };
}

function accountAlert(e: AlertSource): AlertDraft | null {
  const info = obj(e.data.alert_info);
  if (str(info.alert_severity)?.toUpperCase() !== "CRITICAL" || str(info.alert_status)?.toUpperCase() === "NONE") return null;
  const type = str(info.alert_type) ?? "(no type)";
  return {
    kind: "account.alert",
    key: `event:${e.dedupKey}`,
    severity: "critical",
    title: `WhatsApp critical account alert: ${type}`,
    text: `Meta raised a critical alert (${type})${str(info.alert_description) ? `: ${str(info.alert_description)}` : ""}.`,
    data: { alert_type: type, entity_type: str(e.data.entity_type), entity_id: str(e.data.entity_id), waba_id: e.wabaId },
  };
}

function businessError(e: AlertSource, now: number): AlertDraft | null {
  if (e.data.status !== "failed" || !Array.isArray(e.data.errors)) return null;
  const error = e.data.errors.map(obj).find((err) => typeof err.code === "number" && isBusinessError(err.code));
  if (!error) return null;
  const code = error.code as number;
  const hour = Math.floor(now / HOUR_MS) * HOUR_MS;
  const title = str(error.title) ?? str(error.message) ?? "(no title)";
  const sender = e.phoneNumberId ?? "(unknown)";
  return {
    kind: "message.business_error",
    key: `business_error:${sender}:${code}:${hour}`,
    severity: "critical",
    title: `WhatsApp sends failing with ${code} (${title})`,
    text: `Messages from phone number id ${sender} fail with error ${code}: ${title}${str(error.details) ? ` (${str(error.details)})` : ""}. This is on the business's side and fails every such message until fixed (payment method, template, account or access token). At most one alert per code and number per hour.`,
    data: { code, title, details: str(error.details), phone_number_id: e.phoneNumberId, wamid: str(e.data.wamid), since: new Date(hour).toISOString() },
  };
}

/** The outage guard tripped (sweeper/sweep.ts). */
export function fallbackHeldAlert(since: number, window: { total: number; stale: number }, maxStaleRatio: number): AlertDraft {
  return {
    kind: "fallback.held",
    key: `held:${since}`,
    severity: "critical",
    title: "SMS fallback held: most messages have no delivery status",
    text: `${window.stale} of ${window.total} messages whose deadline passed have no delivery status (more than ${Math.round(maxStaleRatio * 100)}%). That looks like Meta not reaching us rather than WhatsApp failing, so every SMS fallback is held. Check that webhooks arrive (Meta's App Dashboard, the proxy, /readyz). It resumes by itself once statuses flow again, or by POST /v1/jobs/stale/resume.`,
    data: { since: new Date(since).toISOString(), deadlines: window.total, undelivered: window.stale, max_stale_ratio: maxStaleRatio },
  };
}

/** The SMS provider failed this many attempts in a row (sweeper/sender.ts). */
export function smsFailingAlert(streakStart: number, failures: number, lastError: string | null): AlertDraft {
  return {
    kind: "sms.failing",
    key: `sms_failing:${streakStart}`,
    severity: "critical",
    title: `SMS provider failing: ${failures} attempts in a row`,
    text: `The last ${failures} SMS fallback attempts failed${lastError ? ` (last: ${lastError})` : ""}. Messages that needed an SMS are not reaching people. Check [fallback.sms] (url, credentials) and the provider's status; due SMS are retried per retry_schedule.`,
    data: { failures, last_error: lastError, since: new Date(streakStart).toISOString() },
  };
}

/** A delivery to a hook was given up (forward/dispatcher.ts): one alert per hook per day. */
export function hookDeadAlert({ hook, eventId, reason, gone }: GivenUp, now: number): AlertDraft {
  const day = new Date(now).toISOString().slice(0, 10);
  return {
    kind: "hook.dead",
    key: `hook_dead:${hook}:${day}`,
    severity: "critical",
    title: `Hook "${hook}" is dead-lettering events`,
    text: gone
      ? `Hook "${hook}" answered 410 Gone for event ${eventId}: that delivery is not retried (state disabled); later events are still sent to it. If the hook is back, GET /v1/deliveries?hook=${hook}&state=disabled lists them and POST /v1/deliveries/{id}/retry sends one again. At most one alert per hook per day.`
      : `Delivery of event ${eventId} to hook "${hook}" was given up after its retries${reason ? ` (${reason})` : ""}. Events it did not take are kept: fix the hook, then \`wa-webhookd retry-dead --hook ${hook}\`. At most one alert per hook per day.`,
    data: { hook, event_id: eventId, reason, day },
  };
}
