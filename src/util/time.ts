/** Unix milliseconds as ISO 8601 for API answers and event data; null stays null. */
export const isoOrNull = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());
