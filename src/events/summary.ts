/**
 * One line about an event for `wa-webhookd tail`: what it is about (its id) and what
 * happened, from its `data`. Never personal data: no phone number, name, message text,
 * caption, file name or place; a message is summed up by its kind and non-personal
 * facts (a text's length, a media type, the message a reaction answers).
 */
import type { EventEnvelope } from "./envelope";
import { eventSubject } from "./subject";
import type { EventType } from "./types";
import { plural } from "../util/plural";
import { currentLimit } from "../whatsapp/messaging-limit";

type Data = Record<string, unknown>;

const obj = (v: unknown): Data => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Data) : {});
const text = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : null);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/** The parts that are there, joined by spaces. */
const words = (...parts: (string | null | false)[]) => parts.filter((p): p is string => typeof p === "string" && p !== "").join(" ");
const change = (from: unknown, to: unknown) => (text(from) ? `${text(from)} → ${text(to) ?? "?"}` : text(to));
/** "(a, b)" of the facts that are there; null when none is. */
const facts = (...parts: (string | null | false)[]) => {
  const there = parts.filter((p): p is string => typeof p === "string" && p !== "");
  return there.length === 0 ? null : `(${there.join(", ")})`;
};
const errorCodes = (d: Data) => {
  const codes = list(d.errors).map((e) => text(obj(e).code)).filter((c) => c !== null);
  return codes.length === 0 ? null : `error ${codes.join(", ")}`;
};
/** A notice older than the state it would change changed nothing (docs/events.md, State by Meta's clock). */
const stale = (d: Data) => (d.state_changed === false ? "(older than the current state: no change)" : null);

const MEDIA_KINDS = new Set(["image", "video", "audio", "document", "sticker"]);

function inbound(d: Data): string {
  const kind = text(d.kind) ?? "message";
  const part = obj(d[kind]);
  const media = obj(d.media);
  const context = obj(d.context);
  const about = (() => {
    if (kind === "text") return facts(`${[...(text(part.body) ?? "")].length} chars`);
    if (MEDIA_KINDS.has(kind)) return facts(text(media.mime_type), media.voice === true && "voice", text(media.caption) && "with caption");
    if (kind === "reaction") return part.emoji == null ? `removed from ${text(part.message_id) ?? "?"}` : `to ${text(part.message_id) ?? "?"}`;
    if (kind === "button") return text(part.payload);
    if (kind === "interactive") return words(text(obj(d.interactive).kind), text(obj(d.interactive).id));
    if (kind === "contacts") return facts(plural(list(d.contacts).length, "card"));
    if (kind === "order") return facts(plural(list(obj(d.order).product_items).length, "item"));
    if (kind === "edit" || kind === "revoke") return text(part.original_message_id) && `of ${text(part.original_message_id)}`;
    if (kind === "system" || kind === "unsupported") return text(part.type);
    return null;
  })();
  return words(kind, about, facts(text(context.id) && `reply to ${text(context.id)}`, context.forwarded === true && "forwarded", errorCodes(d)));
}

function outboundStatus(d: Data): string {
  const status = text(d.status);
  const now = text(d.current_status);
  return words(status, facts(text(obj(d.pricing).category), errorCodes(d), now !== null && now !== status && `message stays ${now}`));
}

const template = (d: Data, what: string | null) => words(text(d.message_template_name) ?? "template", what, stale(d));

const SUMMARIES: Record<EventType, (d: Data) => string> = {
  "message.received": inbound,
  "message.status": outboundStatus,
  "message.echo": (d) => words("echo", text(d.type)),
  "template.status": (d) => template(d, words(`→ ${text(d.event) ?? "?"}`, text(d.reason) !== "NONE" && text(d.reason) && `(${text(d.reason)})`)),
  "template.quality": (d) => template(d, words("quality", change(d.previous_quality_score, d.new_quality_score))),
  "template.components": (d) => template(d, "components changed"),
  "template.category": (d) => template(d, words("category", change(d.previous_category, d.new_category ?? d.correct_category))),
  "account.update": (d) => words(text(d.event), ...list(d.restriction_info).map((r) => text(obj(r).restriction_type))),
  "account.review": (d) => words("review", text(d.decision)),
  "account.alert": (d) => {
    const info = obj(d.alert_info);
    return words(text(info.alert_severity), text(info.alert_type), text(info.alert_status) && `(${text(info.alert_status)})`);
  },
  "account.security": (d) => words(text(d.event)),
  "phone_number.quality": (d) => words(text(d.event), (currentLimit(d) || text(d.old_limit)) && `limit ${change(d.old_limit, currentLimit(d))}`, stale(d)),
  "phone_number.name": (d) => words("name", text(d.decision)),
  "business.capability": (d) => Object.entries(d).filter(([, v]) => typeof v === "number").map(([k, v]) => `${k} ${v}`).join(", "),
  "flow.update": (d) => words(text(d.event), change(d.old_status, d.new_status)),
  "user.preferences": (d) => words(text(d.category), text(d.value), stale(d)),
  "call.event": (d) => words("call", text(d.event), text(d.direction)),
  "group.lifecycle": (d) => words("group", text(d.action), facts(errorCodes(d))),
  "group.participants": (d) => {
    const failed = list(d.failed_participants).length;
    return words("group", text(d.action), plural(list(d.participants).length, "participant"), facts(text(d.reason), failed > 0 && `${failed} failed`, errorCodes(d)));
  },
  "group.settings": (d) => {
    const part = (name: string, v: unknown) => (Object.keys(obj(v)).length > 0 ? `${name} ${obj(v).ok === false ? "failed" : "ok"}` : null);
    return words("group settings", facts(part("subject", d.subject), part("description", d.description), part("picture", d.picture), errorCodes(d)));
  },
  "group.status": (d) => words("group", d.suspended === true ? "suspended" : "suspension cleared", stale(d)),
  "history.message": (d) => words("history", inbound(d), facts(text(d.history_status))),
  "history.sync": (d) =>
    words("history sync", facts(d.phase != null && `phase ${text(d.phase)}`, d.chunk_order != null && `chunk ${text(d.chunk_order)}`, d.progress != null && `${text(d.progress)}%`), plural(Number(d.threads ?? 0), "thread"), plural(Number(d.messages ?? 0), "message"), facts(text(obj(list(d.errors)[0]).title))),
  "contact.sync": (d) => words("contact", text(d.action)),
  "user.id_changed": (d) => words("user id changed", obj(d.parent_user_id).current != null && "(with parent id)"),
  "business.username": (d) => words("username", text(d.status), stale(d)),
  "account.settings": (d) => words("settings", text(obj(d.calling).status) && `calling ${text(obj(d.calling).status)}`),
  "ads.event": (d) => words(text(d.event_name), text(d.amount), text(d.currency)),
  "partner.solution": (d) => words(text(d.event), text(d.solution_status) && `(${text(d.solution_status)})`),
  "payment.configuration": (d) => words("payment configuration", text(d.status)),
  "message.click": (d) => words("click", text(d.click_component), text(d.action_type) !== "marketing_messages_link_click" && text(d.action_type)),
  "message.stale": (d) => words("no delivery by", text(d.deadline), text(d.category) && `(${text(d.category)})`),
  "message.fallback": (d) => words("sms", text(d.outcome), `(${words(text(d.reason), text(d.error_code))})`),
  "fallback.held": (d) => `held: ${text(d.undelivered) ?? "?"} of ${text(d.deadlines) ?? "?"} deadlines undelivered since ${text(d.since) ?? "?"}`,
  "webhook.error": (d) => words(errorCodes(d), facts(text(obj(list(d.errors)[0]).title))),
  "webhook.unknown": (d) => words("field", text(d.field) ?? "?", text(d.reason) && `(${text(d.reason)})`),
};

/** What the event is about: its wamid, template, call or flow; else the event's own id (for `replay --event`). */
export function summaryId(e: Pick<EventEnvelope, "id" | "type" | "data">): string {
  const d = e.data;
  return eventSubject(e.type, d).wamid ?? text(d.message_template_id) ?? (e.type === "call.event" ? text(d.id) : null) ?? text(d.flow_id) ?? e.id;
}

export function eventSummary(e: Pick<EventEnvelope, "type" | "data">): string {
  // A type a newer release stored has no summary here yet.
  return SUMMARIES[e.type]?.(e.data) ?? "";
}
