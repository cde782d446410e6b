/** "did you mean …" for unknown config keys (the closest known key of the same table) and options. */
import type { z } from "zod";

type AnySchema = z.core.$ZodType;

/** The keys a table at `path` accepts, found by walking the zod schema (wrappers, arrays, objects). */
export function knownKeys(schema: AnySchema, path: readonly PropertyKey[]): string[] {
  let node: AnySchema | undefined = unwrap(schema);
  for (const part of path) {
    if (node === undefined) return [];
    const def = node._zod.def as { type: string; shape?: Record<string, AnySchema>; element?: AnySchema };
    if (def.type === "array" && typeof part === "number") node = unwrap(def.element!);
    else if (def.type === "object" && typeof part === "string") node = def.shape![part] && unwrap(def.shape![part]);
    else return [];
  }
  const def = node?._zod.def as { type: string; shape?: Record<string, AnySchema> } | undefined;
  return def?.type === "object" ? Object.keys(def.shape!) : [];
}

function unwrap(schema: AnySchema): AnySchema {
  let node = schema;
  for (;;) {
    const def = node._zod.def as { type: string; innerType?: AnySchema; in?: AnySchema };
    if (def.innerType) node = def.innerType;
    else if (def.type === "pipe" && def.in) node = def.in;
    else return node;
  }
}

export function suggestKey(schema: AnySchema, path: readonly PropertyKey[], unknown: string): string | null {
  return closest(unknown, knownKeys(schema, path));
}

/** The candidate `word` is most likely a typo of (config keys, command-line options), or null. */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  // Close enough to be a typo: at most a third of the word, and never more than 3 edits.
  return best !== null && bestDistance <= Math.min(3, Math.ceil(best.length / 3)) ? best : null;
}

/** Damerau–Levenshtein (optimal string alignment): a swapped pair of letters is one edit. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
