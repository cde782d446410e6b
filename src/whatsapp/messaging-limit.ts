/**
 * A phone number's messaging limit (business-initiated conversations a day), as Meta
 * names its tiers. `phone_number_quality_update` carried it as `current_limit` (and
 * `old_limit`) until February 2026 and as `max_daily_conversations_per_business` since;
 * `business_capability_update` gives the latter as a number.
 */
const TIERS = ["TIER_50", "TIER_250", "TIER_1K", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED"] as const;
const TIER_OF_NUMBER: Record<number, string> = { 50: "TIER_50", 250: "TIER_250", 1000: "TIER_1K", 2000: "TIER_2K", 10000: "TIER_10K", 100000: "TIER_100K", [-1]: "TIER_UNLIMITED" };

/**
 * A limit as a tier name: a tier as sent, a number (or its digits as text, "2000") as its
 * tier, or as text when no tier has it; null when absent. One spelling, so that limits
 * compare (a drop from TIER_10K to 2000 is a drop) and previous_limit names a tier.
 */
export function limitTier(value: unknown): string | null {
  if (typeof value === "string" && /^-?\d+$/.test(value.trim())) return limitTier(Number(value.trim()));
  if (typeof value === "string" && value !== "") return value.toUpperCase();
  if (typeof value === "number" && Number.isFinite(value)) return TIER_OF_NUMBER[value] ?? String(value);
  return null;
}

/** The number's limit now, in either spelling (the newer first). */
export const currentLimit = (value: { max_daily_conversations_per_business?: unknown; current_limit?: unknown }) =>
  limitTier(value.max_daily_conversations_per_business) ?? limitTier(value.current_limit);

/** Order of two tiers: negative when `a` is lower; null when either is not a known tier. */
export function compareTiers(a: string, b: string): number | null {
  const [ra, rb] = [TIERS.indexOf(a as never), TIERS.indexOf(b as never)];
  return ra < 0 || rb < 0 ? null : ra - rb;
}

/** `event` values that rate the number's quality; the others (UPGRADE, ONBOARDING, THROUGHPUT_UPGRADE…) are about its limit. */
export const QUALITY_EVENTS: ReadonlySet<string> = new Set(["FLAGGED", "UNFLAGGED"]);
