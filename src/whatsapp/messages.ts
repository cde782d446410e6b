/** `messages` field: inbound messages of every type Meta documents. Unknown keys pass through. */
import { z } from "zod";
import { lenientList, MetaError, phoneText, unixSeconds } from "./primitives";

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
  from: phoneText.optional().catch(undefined), // may be "" for username users
  from_user_id: z.string().optional().catch(undefined),
  from_parent_user_id: z.string().optional().catch(undefined),
  group_id: z.string().optional().catch(undefined), // a message written in a group: `from` is the participant
  timestamp: unixSeconds,
  type: z.string(), // open enum: unknown types are kept
  text: z.looseObject({ body: z.string() }).optional().catch(undefined),
  image: Media.optional().catch(undefined),
  video: Media.optional().catch(undefined),
  audio: Media.optional().catch(undefined),
  document: Media.optional().catch(undefined),
  sticker: Media.optional().catch(undefined),
  location: Location.optional().catch(undefined),
  contacts: lenientList(z.looseObject({})),
  interactive: Interactive.optional().catch(undefined),
  button: z.looseObject({ payload: z.string().optional(), text: z.string().optional() }).optional().catch(undefined),
  reaction: z.looseObject({ message_id: z.string().optional(), emoji: z.string().optional() }).optional().catch(undefined),
  order: z.looseObject({}).optional().catch(undefined),
  system: z.looseObject({}).optional().catch(undefined),
  referral: z.looseObject({}).optional().catch(undefined),
  context: Context.optional().catch(undefined),
  errors: lenientList(MetaError),
});
export type InboundMessage = z.infer<typeof InboundMessage>;

export const SenderContact = z.looseObject({
  wa_id: phoneText.optional().catch(undefined),
  user_id: z.string().optional().catch(undefined),
  profile: z.looseObject({ name: z.string().optional().catch(undefined) }).optional().catch(undefined),
});
export type SenderContact = z.infer<typeof SenderContact>;
