/** The `data` part of message.received and message.status events, and the state they imply. */
import { SenderContact, type InboundMessage } from "./messages";
import { isRecord } from "./normalized-event";
import { deeperThan } from "../util/json-depth";
import { parseJsonExact } from "../util/json";
import { normalizeError, parseEach, secondsToMs, type NormalizedError } from "./primitives";
import { participantNumber, type MessageStatus } from "./statuses";
import type { StateEffect } from "../domain/effects";
import { parentLink, type NamedId } from "../domain/identity";
import { phoneDigits } from "./phone";

const MEDIA_KINDS = ["image", "video", "audio", "document", "sticker"] as const;

/**
 * The `contacts[]` entry that describes a message's sender. Username users (BSUID)
 * may have no phone number (`from` and `wa_id` empty or absent), so match on the
 * phone number, then the user id, and fall back on position only when the lists
 * line up one to one; never give one sender another's profile.
 */
export function senderOf(m: InboundMessage, contacts: SenderContact[], index: number, messageCount: number): SenderContact | undefined {
  if (m.from) {
    const byPhone = contacts.find((c) => c.wa_id === m.from);
    if (byPhone) return byPhone;
  }
  if (m.from_user_id) {
    const byUser = contacts.find((c) => c.user_id === m.from_user_id);
    if (byUser) return byUser;
  }
  const identified = contacts.filter((c) => c.wa_id || c.user_id);
  // With identities on both sides and no match, it is someone else's entry.
  if ((m.from || m.from_user_id) && identified.length === contacts.length && contacts.length > 0) return undefined;
  if (contacts.length === 1 && messageCount === 1) return contacts[0];
  return contacts.length === messageCount ? contacts[index] : undefined;
}

export function messageData(m: InboundMessage, sender: SenderContact | undefined) {
  const data: Record<string, unknown> = {
    wamid: m.id,
    from: m.from ?? null,
    from_user_id: m.from_user_id ?? sender?.user_id ?? null,
    profile_name: sender?.profile?.name ?? null,
    kind: m.type,
  };
  // The whole entry as Meta sent it: a username, country code, identity key hash, parent user id.
  if (sender) data.contact = sender;
  // Present only on the messages that carry them: a group's (reply to the group, not to `from`) and a parent BSUID's.
  if (m.group_id !== undefined) data.group_id = m.group_id;
  if (m.from_parent_user_id !== undefined) data.from_parent_user_id = m.from_parent_user_id;
  Object.assign(data, contentOf(m));
  if (m.context) {
    data.context = {
      from: m.context.from ?? null,
      id: m.context.id ?? null,
      forwarded: m.context.forwarded ?? false,
      frequently_forwarded: m.context.frequently_forwarded ?? false,
    };
    // A question about a catalogue product ("Message business" on a product) names it here.
    if (m.context.referred_product !== undefined) (data.context as Record<string, unknown>).referred_product = m.context.referred_product;
  }
  if (m.referral) data.referral = m.referral;
  if (m.errors) data.errors = m.errors.map(normalizeError);
  const sentAt = secondsToMs(m.timestamp);
  const effects: StateEffect[] = [{ kind: "inbound", wamid: m.id, sender: m.from || null, messageKind: m.type, sentAt }];
  // Contacts are keyed by whichever identity exists: the phone number, else the BSUID.
  const identity = m.from || (data.from_user_id as string | null);
  if (identity) {
    effects.push({ kind: "contact", waId: identity, seenAt: sentAt });
    const name = sender?.profile?.name;
    if (name) effects.push({ kind: "notice", subject: "contact", id: identity, attribute: "profile_name", value: name, at: sentAt, record: "changes" });
  }
  const moved = numberChange(m, data.from_user_id as string | null, sentAt);
  if (moved) effects.push(moved);
  const parent = parentLink(data.from_user_id as string | null, m.from_parent_user_id ?? (sender as { parent_user_id?: unknown } | undefined)?.parent_user_id, sentAt);
  if (parent) effects.push({ kind: "identity", link: parent });
  return { data, effects };
}

/** The system types that say the sender has a new number: today's, and the older name some senders still use. */
const NUMBER_CHANGES = new Set(["user_changed_number", "customer_changed_number"]);

/**
 * A number-change system message: the sender's number (and user id) and the new number
 * are one person; the new number is current from the message's time. The new number is
 * `wa_id`, or `new_wa_id` in the shape Meta documented before v12.
 */
function numberChange(m: InboundMessage, userId: string | null, at: number | null): StateEffect | null {
  const s = m.type === "system" ? (m.system as { type?: unknown; wa_id?: unknown; new_wa_id?: unknown } | undefined) : undefined;
  if (typeof s?.type !== "string" || !NUMBER_CHANGES.has(s.type)) return null;
  const given = typeof s.wa_id === "string" || typeof s.wa_id === "number" ? s.wa_id : s.new_wa_id;
  if (typeof given !== "string" && typeof given !== "number") return null;
  const current = phoneDigits(given);
  if (!m.from || !current || current === m.from) return null;
  const ids: NamedId[] = [{ id: m.from, kind: "wa_id", current: false }, { id: current, kind: "wa_id", current: true }];
  if (userId) ids.push({ id: userId, kind: "user_id", current: false });
  return { kind: "identity", link: { ids, at } };
}

function contentOf(m: InboundMessage): Record<string, unknown> {
  if (m.type === "text" && m.text) return { text: { body: m.text.body } };
  const mediaKind = MEDIA_KINDS.find((k) => k === m.type);
  if (mediaKind && m[mediaKind]) {
    const media = m[mediaKind]!;
    return {
      media: {
        id: media.id ?? null,
        mime_type: media.mime_type ?? null,
        sha256: media.sha256 ?? null,
        caption: media.caption ?? null,
        filename: media.filename ?? null,
        voice: media.voice ?? null,
        animated: media.animated ?? null,
        url: media.url ?? null,
      },
    };
  }
  if (m.type === "location" && m.location) {
    const l = m.location;
    return { location: { latitude: l.latitude ?? null, longitude: l.longitude ?? null, name: l.name ?? null, address: l.address ?? null, url: l.url ?? null } };
  }
  if (m.type === "contacts" && m.contacts) return { contacts: m.contacts };
  if (m.type === "interactive" && m.interactive) return { interactive: interactiveOf(m.interactive) };
  if (m.type === "button" && m.button) return { button: { payload: m.button.payload ?? null, text: m.button.text ?? null } };
  // Removal of a reaction: emoji omitted (Meta) or "" (seen in the wild) → null.
  if (m.type === "reaction" && m.reaction) return { reaction: { message_id: m.reaction.message_id ?? null, emoji: m.reaction.emoji || null } };
  if (m.type === "order" && m.order) return { order: m.order };
  if (m.type === "system" && m.system) return { system: m.system };
  const content = (m as Record<string, unknown>)[m.type];
  return content !== undefined ? { [m.type]: content } : {};
}

function interactiveOf(i: NonNullable<InboundMessage["interactive"]>) {
  // An odd or missing `type` is told by the part that is there.
  const kind = i.type ?? (i.button_reply ? "button_reply" : i.list_reply ? "list_reply" : i.nfm_reply ? "nfm_reply" : null);
  const reply = i.button_reply ?? i.list_reply;
  if (reply) {
    return { kind, id: reply.id ?? null, title: reply.title ?? null, description: reply.description ?? null, response_json: null };
  }
  if (i.nfm_reply) {
    return { kind, id: null, title: i.nfm_reply.name ?? null, description: i.nfm_reply.body ?? null, response_json: parseEmbeddedJson(i.nfm_reply.response_json) };
  }
  const { type: _type, ...rest } = i;
  return { kind, id: null, title: null, description: null, response_json: null, ...rest };
}

const EMBEDDED_JSON_DEPTH = 32;

/** nfm_reply.response_json is JSON inside a string; a string that is not JSON is kept as is. */
function parseEmbeddedJson(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    // Digits past 2^53 (an order id, a card number) keep them, as in the body itself.
    const parsed: unknown = parseJsonExact(text);
    // Too deep to pass on safely: kept as the string it came in (nothing is lost).
    return deeperThan(parsed, EMBEDDED_JSON_DEPTH) ? text : parsed;
  } catch {
    return text;
  }
}

/**
 * The `contacts[]` entry about a status's recipient (Meta adds them to sent, delivered and
 * read statuses with user ids): by number, then by user id; never by position.
 */
/**
 * The value's `contacts[]` entry naming one of these ids (a call's caller, a preference's
 * or an id change's user): the whole entry as Meta sent it (profile name, username, ids),
 * which would otherwise be in no event. Undefined when none does.
 */
export function contactNaming(value: unknown, ids: readonly unknown[]): SenderContact | undefined {
  const contacts = parseEach(SenderContact, isRecord(value) ? value.contacts : undefined);
  const named = ids.filter((id): id is string => typeof id === "string" && id !== "");
  return contacts.find((c) => (c.wa_id !== undefined && named.includes(c.wa_id)) || (c.user_id !== undefined && named.includes(c.user_id)));
}

export function recipientOf(s: MessageStatus, contacts: SenderContact[]): SenderContact | undefined {
  return (s.recipient_id ? contacts.find((c) => c.wa_id === s.recipient_id) : undefined) ?? (s.recipient_user_id ? contacts.find((c) => c.user_id === s.recipient_user_id) : undefined);
}

/**
 * `valueErrors`: the value-level errors, normalized once for the whole value; a failed
 * status without errors of its own takes them as they are (the caller sees by identity
 * that they reached an event).
 */
/**
 * A status's price: the four keys every consumer reads, always there (`type` from the
 * older `pricing_type` too), and any other key Meta adds kept as sent.
 */
function pricingData(p: NonNullable<MessageStatus["pricing"]>): Record<string, unknown> {
  const { pricing_type: _, ...asSent } = p;
  return { ...asSent, billable: p.billable ?? null, pricing_model: p.pricing_model ?? null, category: p.category ?? null, type: p.type ?? p.pricing_type ?? null };
}

export function statusData(s: MessageStatus, phoneNumberId: string | null, valueErrors: NormalizedError[] | null, recipient?: SenderContact) {
  // pywa reads a failed status's error from value.errors too: be tolerant of both places.
  const errors = s.errors ? s.errors.map(normalizeError) : s.status === "failed" ? valueErrors : null;
  const pricing = s.pricing ? pricingData(s.pricing) : null;
  const statusAt = secondsToMs(s.timestamp);
  const data: Record<string, unknown> = {
    wamid: s.id,
    status: s.status,
    recipient_id: s.recipient_id ?? null,
    status_timestamp: statusAt === null ? null : new Date(statusAt).toISOString(),
    conversation: s.conversation ?? null,
    pricing,
    errors,
    biz_opaque_callback_data: s.biz_opaque_callback_data ?? null,
    current_status: null, // filled in when the status is applied to the stored state
  };
  // Present only on the shapes that carry them: a username (BSUID) recipient, group sends (one status per participant) and payments.
  if (s.recipient_user_id !== undefined) data.recipient_user_id = s.recipient_user_id;
  const parentUserId = s.recipient_parent_user_id ?? s.parent_recipient_user_id;
  if (parentUserId !== undefined) data.recipient_parent_user_id = parentUserId;
  if (s.recipient_type !== undefined) data.recipient_type = s.recipient_type;
  const participant = participantNumber(s);
  if (participant !== undefined) data.recipient_participant_id = participant;
  if (s.recipient_participant_user_id !== undefined) data.recipient_participant_user_id = s.recipient_participant_user_id;
  if (s.recipient_participant_parent_user_id !== undefined) data.recipient_participant_parent_user_id = s.recipient_participant_parent_user_id;
  if (s.payment !== undefined) data.payment = s.payment;
  // Only with Meta's identity change check on: the recipient's key, as the contact's identity_key_hash.
  if (typeof s.recipient_identity_key_hash === "string") data.recipient_identity_key_hash = s.recipient_identity_key_hash;
  if (recipient) data.contact = recipient;
  const effects: StateEffect[] = [
    {
      kind: "status",
      wamid: s.id,
      status: s.status,
      statusAt,
      recipientId: s.recipient_id ?? null,
      phoneNumberId,
      errors,
      pricing,
      bizOpaque: s.biz_opaque_callback_data ?? null,
      oneToOne: s.recipient_type !== "group" && s.payment === undefined && s.type !== "payment" && s.type !== "call",
    },
  ];
  const parent = parentLink(s.recipient_user_id, parentUserId, statusAt);
  if (parent) effects.push({ kind: "identity", link: parent });
  return { data, effects };
}
