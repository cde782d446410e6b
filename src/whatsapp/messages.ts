/** `messages` field: inbound messages of every type Meta documents. Unknown keys pass through. */
import { z } from "zod";
import { absent, optionalNumber, lenientList, MetaError, optionalFlag, optionalId, optionalText, phoneText, unixSeconds } from "./primitives";

// Each part is lenient: one odd field (null, a number for a string) reads as absent; its siblings stay.
export const Media = z.looseObject({
  id: optionalId,
  mime_type: optionalText,
  sha256: optionalText,
  caption: optionalText,
  filename: optionalText,
  voice: optionalFlag,
  animated: optionalFlag,
  url: optionalText,
});

export const Location = z.looseObject({
  latitude: optionalNumber,
  longitude: optionalNumber,
  name: optionalText,
  address: optionalText,
  url: optionalText,
});

const Reply = z.looseObject({ id: optionalId, title: optionalText, description: optionalText });

export const Interactive = z.looseObject({
  type: optionalText,
  button_reply: Reply.catch(absent).optional(),
  list_reply: Reply.catch(absent).optional(),
  nfm_reply: z.looseObject({ name: optionalText, body: optionalText, response_json: optionalText }).catch(absent).optional(),
});

export const Context = z.looseObject({
  from: optionalId,
  id: optionalText,
  forwarded: optionalFlag,
  frequently_forwarded: optionalFlag,
  referred_product: z.looseObject({}).catch(absent).optional(),
});

/** Only `id` and `type` are required; an odd optional part reads as absent (it stays in `raw`). */
export const InboundMessage = z.looseObject({
  id: z.string(),
  from: phoneText.catch(absent).optional(), // may be "" for username users
  from_user_id: z.string().catch(absent).optional(),
  from_parent_user_id: z.string().catch(absent).optional(),
  group_id: z.string().catch(absent).optional(), // a message written in a group: `from` is the participant
  timestamp: unixSeconds,
  type: z.string(), // open enum: unknown types are kept
  text: z.looseObject({ body: z.string() }).catch(absent).optional(),
  image: Media.catch(absent).optional(),
  video: Media.catch(absent).optional(),
  audio: Media.catch(absent).optional(),
  document: Media.catch(absent).optional(),
  sticker: Media.catch(absent).optional(),
  location: Location.catch(absent).optional(),
  contacts: lenientList(z.looseObject({})),
  interactive: Interactive.catch(absent).optional(),
  button: z.looseObject({ payload: optionalId, text: optionalText }).catch(absent).optional(),
  reaction: z.looseObject({ message_id: optionalText, emoji: optionalText }).catch(absent).optional(),
  order: z.looseObject({}).catch(absent).optional(),
  system: z.looseObject({}).catch(absent).optional(),
  referral: z.looseObject({}).catch(absent).optional(),
  context: Context.catch(absent).optional(),
  errors: lenientList(MetaError),
});
export type InboundMessage = z.infer<typeof InboundMessage>;

export const SenderContact = z.looseObject({
  wa_id: phoneText.catch(absent).optional(),
  user_id: z.string().catch(absent).optional(),
  profile: z.looseObject({ name: z.string().catch(absent).optional() }).catch(absent).optional(),
});
export type SenderContact = z.infer<typeof SenderContact>;
