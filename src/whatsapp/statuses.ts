/** `messages` field, `statuses[]`: outbound message status updates. */
import { z } from "zod";
import { MetaError, unixSeconds } from "./primitives";

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
  timestamp: unixSeconds.optional(),
  recipient_id: z.string().optional(),
  recipient_user_id: z.string().optional(),
  biz_opaque_callback_data: z.string().optional(),
  conversation: z.looseObject({}).optional(),
  pricing: Pricing.optional(),
  errors: z.array(MetaError).optional(),
  type: z.string().optional(), // "call" when the calls field reuses this key
});
export type MessageStatus = z.infer<typeof MessageStatus>;
