/**
 * Nesting depth of parsed JSON, measured and cut without recursion. JSON.parse takes
 * any depth, but everything after it (zod, hashing, JSON.stringify of the envelope)
 * recurses, and a 10k-deep value overflows the stack of a worker thread — sometimes,
 * depending on what else is on it. Items deeper than the limit are cut before any of that.
 */
export const MAX_JSON_DEPTH = 64;

export const DEPTH_CUT_MARKER = `[cut by wa-webhookd: nested deeper than ${MAX_JSON_DEPTH} levels; the raw body is in the inbox]`;

const isContainer = (v: unknown): v is object => typeof v === "object" && v !== null;

/** True when some value inside is nested more than `max` containers deep (a scalar is depth 0). */
export function deeperThan(value: unknown, max = MAX_JSON_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (!isContainer(v)) continue;
    if (depth + 1 > max) return true;
    for (const child of Object.values(v)) if (isContainer(child)) stack.push([child, depth + 1]);
  }
  return false;
}

/** A copy in which every container that would sit deeper than `max` is replaced by DEPTH_CUT_MARKER. */
export function cutDeep(value: unknown, max = MAX_JSON_DEPTH): unknown {
  if (!isContainer(value)) return value;
  const root: Record<string, unknown> | unknown[] = Array.isArray(value) ? [] : {};
  const stack: [source: object, target: Record<string, unknown> | unknown[], depth: number][] = [[value, root, 1]];
  while (stack.length > 0) {
    const [source, target, depth] = stack.pop()!;
    for (const [key, child] of Object.entries(source)) {
      let copied: unknown = child;
      if (isContainer(child)) {
        if (depth + 1 > max) copied = DEPTH_CUT_MARKER;
        else {
          copied = Array.isArray(child) ? [] : {};
          stack.push([child, copied as Record<string, unknown> | unknown[], depth + 1]);
        }
      }
      if (Array.isArray(target)) target[Number(key)] = copied;
      else Object.defineProperty(target, key, { value: copied, enumerable: true, writable: true, configurable: true });
    }
  }
  return root;
}
