/**
 * Meta's pricing categories (../shared/reference: `pricing.category`) and what a priced
 * status says about billing (pure). One spelling for the daemon: lower case with `_`,
 * because Meta writes `authentication-international` in pricing and
 * `authentication_international` in its conversation list.
 */

/** Every category a status's pricing may carry: 1:1 sends, then group sends (one status per participant). */
export const PRICING_CATEGORIES = [
  "authentication",
  "authentication_international",
  "marketing",
  "marketing_lite",
  "referral_conversion",
  "service",
  "utility",
  "group_marketing",
  "group_service",
  "group_utility",
] as const;

export function normalizeCategory(category: string): string {
  return category.toLowerCase().replace(/-/g, "_");
}

/**
 * The sends a family name stands for: an OTP to a number abroad is priced
 * `authentication-international`, a marketing template sent through the MM Lite API
 * `marketing_lite`; saying `authentication` or `marketing` means those too.
 */
const FAMILIES: Record<string, readonly string[]> = {
  authentication: ["authentication", "authentication_international"],
  marketing: ["marketing", "marketing_lite"],
};

/** The categories a configured name covers (itself, and its family's when it names one). */
export function coveredBy(name: string): readonly string[] {
  const n = normalizeCategory(name);
  return Object.hasOwn(FAMILIES, n) ? FAMILIES[n]! : [n];
}

/** The family a category belongs to (`marketing_lite` → `marketing`), else itself. */
export function familyOf(category: string): string {
  const n = normalizeCategory(category);
  return Object.keys(FAMILIES).find((family) => FAMILIES[family]!.includes(n)) ?? n;
}

/**
 * Whether a priced status bills the message. Meta deprecates `billable` and says to
 * derive it from `type`: `regular` is charged, the `free_*` types are not. An explicit
 * `billable` still decides when it comes.
 */
export function isBillable(pricing: { billable?: unknown; type?: unknown }): boolean {
  if (typeof pricing.billable === "boolean") return pricing.billable;
  return typeof pricing.type === "string" && pricing.type.toLowerCase() === "regular";
}
