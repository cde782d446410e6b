/** Shared zod building blocks for Meta's payload quirks (see ../shared/reference, §6). */
import { z } from "zod";

/** Ids Meta sends as numbers or strings (template ids: 16 digits); always kept as text. */
export const idText = z.union([z.string(), z.number()]).transform(String);

/** Unix-seconds timestamps: strings in messages/statuses/calls, integers elsewhere. */
export const unixSeconds = z.union([z.string().regex(/^\d+$/), z.number().int()]).transform(Number);

/** Meta's error object, at value level and inside statuses and unsupported messages. */
export const MetaError = z.looseObject({
  code: z.number().optional(),
  title: z.string().optional(),
  message: z.string().optional(),
  error_data: z.looseObject({ details: z.string().optional() }).optional(),
  details: z.string().optional(),
  href: z.string().optional(),
});
export type MetaError = z.infer<typeof MetaError>;

export const Metadata = z.looseObject({
  display_phone_number: z.string().optional(),
  phone_number_id: z.string().optional(),
});

/** Meta's error object in the shape our events carry. */
export function normalizeError(e: MetaError) {
  return { code: e.code ?? null, title: e.title ?? null, message: e.message ?? null, details: e.error_data?.details ?? e.details ?? null };
}
