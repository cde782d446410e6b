/** `messages` field, `statuses[]`: outbound message status updates. */
import { z } from "zod";
import { absent, lenientList, MetaError, phoneText, unixSeconds } from "./primitives";

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
  recipient_id: phoneText.catch(absent).optional(),
  recipient_user_id: z.string().catch(absent).optional(),
  recipient_parent_user_id: z.string().catch(absent).optional(),
  parent_recipient_user_id: z.string().catch(absent).optional(), // its name before 2026-05-05
  biz_opaque_callback_data: z.string().catch(absent).optional(),
  conversation: z.looseObject({}).catch(absent).optional(),
  pricing: Pricing.catch(absent).optional(),
  errors: lenientList(MetaError),
  type: z.string().catch(absent).optional(), // "call" when the calls field reuses this key, "payment" for payments
  // Group sends: one status per participant, all under the group message's wamid.
  recipient_type: z.string().catch(absent).optional(),
  recipient_participant_id: phoneText.catch(absent).optional(),
  participant_recipient_id: phoneText.catch(absent).optional(), // Meta's groups page spells it both ways
  recipient_participant_user_id: z.string().catch(absent).optional(),
  recipient_participant_parent_user_id: z.string().catch(absent).optional(),
  // Payment status updates (captured, pending, refunds…) reuse status names under one id.
  payment: z.looseObject({}).catch(absent).optional(),
});
export type MessageStatus = z.infer<typeof MessageStatus>;

/**
 * What identifies one status *occurrence* (not one kind of status): the wamid and the
 * status, plus the group participant it is about, plus — for a payment update — the
 * payment object itself (a refund after a capture reuses the id and often the status
 * name). Meta's retries and re-batches repeat an item byte for byte, so they get the
 * same key; a plain 1:1 status keeps the key it always had.
 */
export function statusDedupKey(s: MessageStatus, hash: (value: unknown) => string): string {
  let key = `status:${s.id}:${s.status}`;
  const participant = participantNumber(s) ?? s.recipient_participant_user_id ?? s.recipient_participant_parent_user_id;
  if (participant !== undefined) key += `:to:${participant}`;
  if (s.payment !== undefined) key += `:pay:${hash(s.payment)}`;
  return key;
}

/** The group participant's number, under either of the names Meta's groups page gives it. */
export const participantNumber = (s: MessageStatus) => s.recipient_participant_id ?? s.participant_recipient_id;
