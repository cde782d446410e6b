/**
 * The longest waits SMS fallback accepts (docs/fallback.md, "Limits"). A deadline or an
 * expiry: Meta's longest time to live is 30 days and it retries a webhook for up to 7
 * more, so past 40 days no status can still change a message, and no wait longer means
 * anything (a larger one is a typo, and could not even be a date). A provider's
 * Retry-After: honoured up to an hour; asking for longer is a provider that is down.
 */
import { parseDuration } from "../config/duration";

const DAY_MS = 86_400_000;

export const MAX_FALLBACK_WAIT = "40d";
export const MAX_FALLBACK_WAIT_MS = 40 * DAY_MS;
export const FALLBACK_WAIT_TOO_LONG = `must be at most "${MAX_FALLBACK_WAIT}" (Meta's longest time to live, 30 days, and its 7 days of webhook retries)`;

export const MAX_RETRY_AFTER = "1h";
export const MAX_RETRY_AFTER_MS = 60 * 60_000;

/** A duration text within MAX_FALLBACK_WAIT (one that is not a duration is another check's answer). */
export const withinFallbackWait = (text: string): boolean => (parseDuration(text) ?? 0) <= MAX_FALLBACK_WAIT_MS;
