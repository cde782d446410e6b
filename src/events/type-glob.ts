/** Globs on event types ("message.*", "*"), as hooks' `events` and `replay --type` write them. */
import { EVENT_TYPES } from "./types";

/** Only `*` is special; every other character stands for itself. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

/** True when the glob names at least one of `names` (by default the event types we emit): anything else is a typo. */
export function matchesKnownType(glob: string, names: readonly string[] = EVENT_TYPES): boolean {
  const re = globToRegExp(glob);
  return names.some((t) => re.test(t));
}

export function unknownTypeMessage(glob: string, names: readonly string[] = EVENT_TYPES, [one, many] = ["event type", "types"]): string {
  return `"${glob}" matches no ${one}; known ${many}: ${names.join(", ")}`;
}
