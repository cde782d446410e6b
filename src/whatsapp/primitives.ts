/** Shared zod building blocks for Meta's payload quirks (see ../shared/reference, §6). */
import { z } from "zod";
import { phoneDigits } from "./phone";

/**
 * What a lenient field reads as when its value is odd: `.catch(absent).optional()`. In
 * that order an absent field (most of a status's or message's optional fields) returns at
 * the optional, one call, instead of passing through the catch's fresh payload first;
 * `never` only lets zod accept `undefined` as the catch value of any type.
 */
export const absent = undefined as never;

/** Ids Meta sends as numbers or strings (template ids: 16 digits); always kept as text. */
export const idText = z.union([z.string(), z.number()]).transform(String);

/**
 * A person's number (`from`, `wa_id`, `recipient_id`): digits without `+` in Meta's
 * examples, `+16505551234` in some of its parameter tables, a JSON number now and then.
 * Kept as text, without the `+`, so one person is one key whichever form came.
 */
export const phoneText = z.union([z.string(), z.number()]).transform(phoneDigits);

/** Lenient parts of an item: an odd value (null, another type) reads as absent, never un-types its siblings. */
export const optionalText = z.string().catch(absent).optional();
export const optionalId = idText.catch(absent).optional();
export const optionalFlag = z.boolean().catch(absent).optional();

/**
 * A number, or a string holding one ("37.48", an ads value "1000"). An empty or
 * non-numeric string reads as absent: Number("") is 0 (a coordinate off the coast of Africa).
 */
export const optionalNumber = z
  .union([z.number(), z.string().regex(/^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/).transform(Number)])
  .refine(Number.isFinite)
  .catch(absent)
  .optional();

/**
 * Unix-seconds timestamps: strings in messages/statuses/calls, integers elsewhere.
 * Anything else reads as absent (the raw value stays in the event's `raw`), so one
 * odd scalar never un-types the item that carries it. A fraction ("1749416383.0", what a
 * relay that re-serializes numbers sends) is still the time it says.
 */
const SECONDS_TEXT = /^\d{1,12}(\.\d{1,9})?$/;

export const unixSeconds = z
  .union([z.string().regex(SECONDS_TEXT), z.number().nonnegative()])
  .transform(Number)
  .catch(absent)
  .optional();

// Plausible webhook times: after 2000-01-01, before 2100-01-01. Outside: not a time we can use.
const EARLIEST_SECONDS = 946_684_800;
const LATEST_SECONDS = 4_102_444_800;

/** Unix seconds (number or digit string) → unix ms; null when absent or not a plausible time. */
export function secondsToMs(value: unknown): number | null {
  const seconds = typeof value === "number" ? value : typeof value === "string" && SECONDS_TEXT.test(value) ? Number(value) : NaN;
  return Number.isFinite(seconds) && seconds >= EARLIEST_SECONDS && seconds < LATEST_SECONDS ? Math.round(seconds * 1000) : null;
}

/** An error code as a number, whether Meta sent 131026 or "131026". */
const errorCode = z
  .union([z.number(), z.string().regex(/^-?\d+$/).transform(Number)])
  .catch(absent)
  .optional();

/**
 * A list whose malformed elements are skipped (they stay in the item's `raw`) instead of
 * failing the item; a value that is not a list at all reads as absent.
 */
export function lenientList<T extends z.ZodType>(element: T) {
  return z
    .array(z.unknown())
    .transform((items) => parseEach(element, items))
    .catch(absent)
    .optional();
}

/** The elements of `value` (when it is a list) that `element` accepts. */
export function parseEach<T extends z.ZodType>(element: T, value: unknown): z.output<T>[] {
  if (!Array.isArray(value)) return [];
  const out: z.output<T>[] = [];
  for (const item of value) {
    const parsed = element.safeParse(item);
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}

/** Meta's error object, at value level and inside statuses and unsupported messages. */
export const MetaError = z.looseObject({
  code: errorCode,
  title: optionalText,
  message: optionalText,
  error_data: z.looseObject({ details: optionalText }).catch(absent).optional(),
  details: optionalText,
  href: optionalText,
});
export type MetaError = z.infer<typeof MetaError>;

export const Metadata = z.looseObject({
  display_phone_number: optionalId,
  phone_number_id: optionalId,
});

/** Meta's error object in the shape our events carry. */
export function normalizeError(e: MetaError) {
  const normalized = { code: e.code ?? null, title: e.title ?? null, message: e.message ?? null, details: e.error_data?.details ?? e.details ?? null };
  // Meta's link to the code's page, when it gives one: kept (the rest of error_data is in raw).
  return e.href === undefined ? normalized : { ...normalized, href: e.href };
}
export type NormalizedError = ReturnType<typeof normalizeError>;
