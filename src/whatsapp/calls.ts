/**
 * `calls` field (Calling API): `calls[]` (connect, terminate, recording and transcript
 * ready) and `statuses[]` (RINGING/ACCEPTED/REJECTED of a business-initiated call), one
 * `call.event` each. `data` keeps the item's own keys as sent (hooks had them before
 * `data` was typed) and adds the typed fields beside them; an app answers a connect
 * with the `session.sdp` it finds here. Every part is read leniently: an odd one reads
 * as null and stays in `raw`.
 */
import { z } from "zod";
import { base, guarded, hashOf, isRecord, unknownEvent, type NormalizedEvent, type Where } from "./normalized-event";
import { absent, MetaError, normalizeError, parseEach, phoneText, secondsToMs, optionalText as text } from "./primitives";
import { contactNaming } from "./message-data";

const phone = phoneText.catch(absent).optional();
// Call times stay unix seconds as text, as hooks had them before `data` was typed.
const seconds = z.union([z.string().regex(/^\d+$/), z.number().int()]).transform(String).catch(absent).optional();
const duration = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).catch(absent).optional();

const CallMedia = z.looseObject({ id: text, mime_type: text, sha256: text, url: text, filename: text });
/** `call_recording {type: "audio", audio {…}}`, `call_transcript {document {…}}`: the media sits under its type. */
const MediaHolder = z.looseObject({ type: text }).catch(absent).optional();

const CallItem = z.looseObject({
  id: text,
  event: text,
  type: text, // "call" on statuses[] items
  direction: text,
  from: phone,
  to: phone,
  from_user_id: text,
  to_user_id: text,
  recipient_id: phone,
  recipient_user_id: text,
  status: text,
  start_time: seconds,
  end_time: seconds,
  duration,
  session: z.looseObject({ sdp_type: text, sdp: text }).catch(absent).optional(),
  biz_opaque_callback_data: text,
  call_recording: MediaHolder,
  call_transcript: MediaHolder,
  errors: z.array(z.unknown()).catch(absent).optional(),
});
type CallItem = z.infer<typeof CallItem>;

export type CallKind = "connect" | "terminate" | "status" | "recording" | "transcript" | "other";

const KIND_OF_EVENT: Record<string, CallKind> = {
  connect: "connect",
  terminate: "terminate",
  call_recording_available: "recording",
  call_transcription_available: "transcript",
};

/** A `statuses[]` item is a status whatever it says; a `calls[]` item is what its `event` names. */
export function callKind(source: "calls" | "statuses", event: string | undefined): CallKind {
  if (source === "statuses") return "status";
  const name = event?.toLowerCase();
  // Own properties only: an event named "constructor" is no kind of Object's.
  return name !== undefined && Object.hasOwn(KIND_OF_EVENT, name) ? KIND_OF_EVENT[name]! : "other";
}

/**
 * calls[] and statuses[] items; value-level `errors` explain them (a failed connect)
 * and become `data.errors` of each item without its own. Errors no item took (none
 * there, or each had its own) are a `webhook.error`; a value with neither items nor
 * errors, a `webhook.unknown` — never zero events, never an error dropped.
 */
export function* normalizeCalls(where: Where, value: unknown): Generator<NormalizedEvent> {
  const errors = parseEach(MetaError, isRecord(value) ? value.errors : undefined).map(normalizeError);
  let yielded = 0;
  let errorsCarried = false;
  for (const source of ["calls", "statuses"] as const) {
    for (const event of callsOf(where, value, source, errors)) {
      yielded++;
      errorsCarried ||= errors.length > 0 && event.data.errors === errors; // taken as they are, by an item without its own
      yield event;
    }
  }
  if (errors.length > 0 && !errorsCarried) yield base(where, "webhook.error", `hash:${hashOf(where, value)}`, where.entryTime, { errors }, value, []);
  else if (yielded === 0) yield unknownEvent(where, value, "calls value without calls, statuses or errors");
}

type CallError = ReturnType<typeof normalizeError>;

function* callsOf(where: Where, value: unknown, source: "calls" | "statuses", errors: CallError[]): Generator<NormalizedEvent> {
  const items = isRecord(value) ? value[source] : undefined;
  if (items === undefined) return;
  if (!Array.isArray(items)) return yield unknownEvent(where, items, `${source} is not an array`);
  for (const raw of items) {
    yield guarded(where, raw, () => {
      if (!isRecord(raw)) return unknownEvent(where, raw, "item is not an object");
      // Dedup per occurrence, as before typing: the item itself (its own timestamp included).
      const data = callData(raw, source, errors);
      // The user's contacts[] entry beside the calls (profile name, username): in no other event.
      const contact = contactNaming(value, [data.from, data.to, data.from_user_id, data.to_user_id]);
      if (contact) data.contact = contact;
      return base(where, "call.event", `hash:${hashOf(where, raw)}`, secondsToMs(raw.timestamp) ?? where.entryTime, data, raw, []);
    });
  }
}

/** The item as sent, then the typed fields (which win where a name is shared: same meaning, read leniently). */
function callData(raw: Record<string, unknown>, source: "calls" | "statuses", valueErrors: CallError[]): Record<string, unknown> {
  const c = CallItem.parse(raw);
  const own = c.errors ? parseEach(MetaError, c.errors).map(normalizeError) : [];
  const errors = own.length > 0 ? own : valueErrors.length > 0 ? valueErrors : null;
  return {
    ...raw,
    call_id: c.id ?? null,
    kind: callKind(source, c.event),
    direction: c.direction ?? null,
    from: c.from ?? null,
    // A status is about the business's call to the user: the user is its recipient.
    to: c.to ?? c.recipient_id ?? null,
    from_user_id: c.from_user_id ?? null,
    to_user_id: c.to_user_id ?? c.recipient_user_id ?? null,
    status: c.status ?? null,
    start_time: c.start_time ?? null,
    end_time: c.end_time ?? null,
    duration: c.duration ?? null,
    session: c.session ? { sdp_type: c.session.sdp_type ?? null, sdp: c.session.sdp ?? null } : null,
    recording: mediaOf(c.call_recording),
    transcript: mediaOf(c.call_transcript),
    biz_opaque_callback_data: c.biz_opaque_callback_data ?? null,
    errors,
  };
}

function mediaOf(holder: CallItem["call_recording"]): Record<string, unknown> | null {
  if (!holder) return null;
  const key = holder.type ?? ["audio", "document", "video"].find((k) => isRecord(holder[k]));
  const media = key === undefined ? undefined : CallMedia.safeParse(holder[key]).data;
  if (!media) return null;
  return { type: key, id: media.id ?? null, mime_type: media.mime_type ?? null, sha256: media.sha256 ?? null, url: media.url ?? null, filename: media.filename ?? null };
}
