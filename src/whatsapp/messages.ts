/** `messages` field: inbound messages of every type Meta documents. Unknown keys pass through. */
import { z } from "zod";
import { absent, lenientList, MetaError, phoneText, unixSeconds } from "./primitives";

export const Media = z.looseObject({
  id: z.string().optional(),
  mime_type: z.string().optional(),
  sha256: z.string().optional(),
  caption: z.string().optional(),
  filename: z.string().optional(),
  voice: z.boolean().optional(),
  animated: z.boolean().optional(),
  url: z.string().optional(),
});

export const Location = z.looseObject({
  latitude: z.union([z.number(), z.string()]).transform(Number).optional(),
  longitude: z.union([z.number(), z.string()]).transform(Number).optional(),
  name: z.string().optional(),
  address: z.string().optional(),
  url: z.string().optional(),
});

export const Interactive = z.looseObject({
  type: z.string(),
  button_reply: z.looseObject({ id: z.string(), title: z.string() }).optional(),
  list_reply: z.looseObject({ id: z.string(), title: z.string(), description: z.string().optional() }).optional(),
  nfm_reply: z.looseObject({ name: z.string().optional(), body: z.string().optional(), response_json: z.string().optional() }).optional(),
});

export const Context = z.looseObject({
  from: z.string().optional(),
  id: z.string().optional(),
  forwarded: z.boolean().optional(),
  frequently_forwarded: z.boolean().optional(),
  referred_product: z.looseObject({}).optional(),
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
  button: z.looseObject({ payload: z.string().optional(), text: z.string().optional() }).catch(absent).optional(),
  reaction: z.looseObject({ message_id: z.string().optional(), emoji: z.string().optional() }).catch(absent).optional(),
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
