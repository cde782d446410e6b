/** `messages` field, `statuses[]`: outbound message status updates. */
import { z } from "zod";
import { idText, lenientList, MetaError, unixSeconds } from "./primitives";

export const Pricing = z.looseObject({
  billable: z.boolean().optional(),
  pricing_model: z.string().optional(),
  category: z.string().optional(),
  type: z.string().optional(),
  pricing_type: z.string().optional(), // older spelling, accepted
});

export const MessageStatus = z.looseObject({
  id: z.string(),
  status: z.string(), // sent | delivered | read | played | failed, open enum
  // Optional parts read leniently: an odd value is treated as absent, never un-types the status.
  timestamp: unixSeconds,
  recipient_id: idText.optional().catch(undefined),
  recipient_user_id: z.string().optional().catch(undefined),
  biz_opaque_callback_data: z.string().optional().catch(undefined),
  conversation: z.looseObject({}).optional().catch(undefined),
  pricing: Pricing.optional().catch(undefined),
  errors: lenientList(MetaError),
  type: z.string().optional().catch(undefined), // "call" when the calls field reuses this key
});
export type MessageStatus = z.infer<typeof MessageStatus>;
