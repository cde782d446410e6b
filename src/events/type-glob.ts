/** Globs on event types ("message.*", "*"), as hooks' `events` and `replay --type` write them. */
import { EVENT_TYPES } from "./types";

/** Only `*` is special; every other character stands for itself. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

/** True when the glob names at least one type we emit: anything else is a typo. */
export function matchesKnownType(glob: string): boolean {
  const re = globToRegExp(glob);
  return EVENT_TYPES.some((t) => re.test(t));
}

export function unknownTypeMessage(glob: string): string {
  return `"${glob}" matches no event type; known types: ${EVENT_TYPES.join(", ")}`;
}
