/** Globs on event types ("message.*", "*"), as hooks' `events` and `replay --type` write them. */
import { EVENT_TYPES } from "./types";

/**
 * Only `*` is special (any run of characters, dots included); every other character
 * stands for itself. Matched by a scan that goes back only to the last `*`: at most
 * glob × name steps whatever the glob. (A regular expression of `.*`s backtracks
 * exponentially: twelve stars from an admin filter held a thread for two seconds.)
 */
export interface GlobMatcher {
  test(name: string): boolean;
}

export function globMatcher(glob: string): GlobMatcher {
  return { test: (name) => globMatches(glob, name) };
}

function globMatches(glob: string, name: string): boolean {
  let g = 0;
  let n = 0;
  let star = -1; // the last `*` seen in the glob
  let resume = 0; // where in the name that star's run ends so far
  while (n < name.length) {
    if (g < glob.length && glob[g] === "*") {
      star = g++;
      resume = n;
    } else if (g < glob.length && glob[g] === name[n]) {
      g++;
      n++;
    } else if (star >= 0) {
      g = star + 1; // the star takes one more character
      n = ++resume;
    } else return false;
  }
  while (g < glob.length && glob[g] === "*") g++;
  return g === glob.length;
}

/** True when the glob names at least one of `names` (by default the event types we emit): anything else is a typo. */
export function matchesKnownType(glob: string, names: readonly string[] = EVENT_TYPES): boolean {
  const matcher = globMatcher(glob);
  return names.some((t) => matcher.test(t));
}

export function unknownTypeMessage(glob: string, names: readonly string[] = EVENT_TYPES, [one, many] = ["event type", "types"]): string {
  return `"${glob}" matches no ${one}; known ${many}: ${names.join(", ")}`;
}
