/**
 * Parses human durations as written in the config: "250ms", "15s", "5m", "2h", "7d",
 * or a compound such as "1h30m". Returns milliseconds, or null when the text is not one.
 */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

export function parseDuration(text: string): number | null {
  const input = text.trim();
  if (input === "") return null;
  PART.lastIndex = 0;
  let total = 0;
  while (PART.lastIndex < input.length) {
    const match = PART.exec(input);
    if (!match) return null;
    total += Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  }
  return Math.round(total);
}
