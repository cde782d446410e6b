/**
 * What an event is about, for the admin API's filters and for erasing a person: the
 * message (`wamid`) and the person's WhatsApp id (`wa_id`: an inbound message's
 * sender, a status's recipient, a fallback's `to`, a preference's wa_id, a call's user;
 * a username user's BSUID when there is no number). Stored as
 * columns beside the envelope (migrations/0008 fills them the same way for old rows).
 */
import { phoneDigits } from "../whatsapp/phone";

export interface EventSubject {
  wamid: string | null;
  waId: string | null;
}

/**
 * Where the person is, by event type: a business's echo goes `to` them, a group status
 * to a participant. The phone number first; a username user (no number) by their user id
 * (BSUID), as their contact is stored.
 */
const PERSON_FIELDS: Record<string, readonly string[]> = {
  "message.echo": ["to", "to_user_id"],
  // A group status's recipient_id is the group: its participant, by number or user id, comes first.
  "message.status": ["recipient_participant_id", "recipient_participant_user_id", "recipient_participant_parent_user_id", "recipient_id", "recipient_user_id"],
  // A past chat is about its thread's user, whoever sent the message; a synced contact is its number.
  "history.message": ["thread", "from", "from_user_id"],
  "contact.sync": ["phone_number"],
};
const DEFAULT_FIELDS = ["from", "recipient_id", "to", "wa_id", "from_user_id", "user_id"];

/** A call the business placed is to the person; one they placed, from them (a status names them as `to`). */
function personFields(type: string, data: Record<string, unknown>): readonly string[] {
  if (type === "call.event") {
    const direction = typeof data.direction === "string" ? data.direction.toUpperCase() : null;
    if (direction === "BUSINESS_INITIATED") return ["to", "to_user_id"];
    if (direction === "USER_INITIATED") return ["from", "from_user_id"];
    return ["from", "to", "from_user_id", "to_user_id"];
  }
  return PERSON_FIELDS[type] ?? DEFAULT_FIELDS;
}

export function eventSubject(type: string, data: Record<string, unknown>): EventSubject {
  // An echo is the business's own message, kept as Meta sent it: its wamid is `id`.
  const id = type === "message.echo" ? data.id : data.wamid;
  const wamid = typeof id === "string" && id ? id : null;
  for (const field of personFields(type, data)) {
    // An echo's data is the item as Meta sent it: its number may be a JSON number, or carry a `+`.
    const raw = data[field];
    const value = typeof raw === "number" || typeof raw === "string" ? phoneDigits(raw) : null;
    if (value) return { wamid, waId: value };
  }
  return { wamid, waId: null };
}
