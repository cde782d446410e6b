/**
 * What a failed status's error code means for SMS fallback (docs/fallback.md has the
 * table and the reasons; the codes come from ../shared/reference and Meta's error page).
 * Data, not code paths: `fallback.immediate_codes` / `fallback.never_codes` replace the lists.
 */
import type { FallbackSettings } from "../config/schema";
import { coveredBy, normalizeCategory, PRICING_CATEGORIES } from "./pricing";

export type CodePolicy = "immediate" | "never" | "defer";

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** WhatsApp will not get this message through (recipient, template, account, payment, permission): SMS now. */
export const IMMEDIATE_CODES: readonly number[] = [
  131026, 131036, 131047, 130472, 131053, 131048, 131064, 470,
  ...range(132000, 132016),
  // account, payment and permission problems: nothing sends until someone fixes them
  131031, 131042, 131045, 131037, 130497, 368, 131005, 0, 3, 10, 190, ...range(200, 299),
];

/** Consent, policy and request bugs: an SMS would be wrong (an opt-out, an embargo) or would not help. */
export const NEVER_CODES: readonly number[] = [131050, 130403, 131049, 137000, 131030, 131021, 131008, 131009, 131051, 131020, 131041];

/** Transient: WhatsApp may still deliver; the sweep decides at the deadline. */
export const DEFER_CODES: readonly number[] = [131000, 131016, 131056, 131057, 130429, 4, 80007, 1, 2];

/**
 * Codes Meta fails only marketing sends with (130472: the user is in Meta's marketing
 * message experiment): the failure tells the category, as a price would.
 */
export const MARKETING_ONLY_CODES: readonly number[] = [130472];

/** Codes whose failure also says something about the contact. */
export const MARKETING_STOP_CODE = 131050;

export function codePolicy(code: number | null, settings: Pick<FallbackSettings, "immediate_codes" | "never_codes">): CodePolicy {
  if (code === null) return "defer";
  if ((settings.never_codes ?? NEVER_CODES).includes(code)) return "never";
  if ((settings.immediate_codes ?? IMMEDIATE_CODES).includes(code)) return "immediate";
  if (DEFER_CODES.includes(code)) return "defer";
  // An unknown code: the message did fail. Falls back at once, for the categories that may (categoryAllowed).
  return "immediate";
}

/**
 * Meta's pricing categories of a 1:1 message, as normalizeCategory spells them. A
 * category outside these is a typo, and would silently never match
 * `fallback.categories`; group sends are never tracked, so theirs would not either.
 */
export const FALLBACK_CATEGORIES = PRICING_CATEGORIES.filter((c) => !c.startsWith("group_"));
export const CATEGORY_EXPECTED = `expected one of ${FALLBACK_CATEGORIES.join(", ")} (Meta's pricing categories of 1:1 sends; any case, - or _; group sends are not tracked)`;
export const isFallbackCategory = (category: string): boolean => (FALLBACK_CATEGORIES as readonly string[]).includes(normalizeCategory(category));

/**
 * Marketing (and any category not listed) falls back only when listed in
 * `fallback.categories`; `authentication` covers `authentication-international` and
 * `marketing` covers `marketing_lite` (coveredBy). No category known: the app asked for
 * tracking, so it may (a message the app did not describe is stopped before this, by
 * sweeper/transitions.ts describedByApp).
 */
export function categoryAllowed(category: string | null, settings: Pick<FallbackSettings, "categories">): boolean {
  return category === null || settings.categories.flatMap(coveredBy).includes(normalizeCategory(category));
}
