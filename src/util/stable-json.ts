/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

export function sha256Hex(text: string): string {
  return new Bun.CryptoHasher("sha256").update(text).digest("hex");
}

/**
 * The same text as stableStringify, fed to `emit` piece by piece with an explicit stack
 * instead of recursion: for values nested too deep for the thread's stack.
 */
export function stableStringifyInto(value: unknown, emit: (text: string) => void) {
  const todo: ([text: string] | [text: null, value: unknown])[] = [[null, value]];
  while (todo.length > 0) {
    const [text, v] = todo.pop()!;
    if (text !== null) emit(text);
    else if (Array.isArray(v)) {
      todo.push(["]"]);
      for (let i = v.length - 1; i >= 0; i--) todo.push([null, v[i]], [i > 0 ? "," : "["]);
      if (v.length === 0) todo.push(["["]);
    } else if (v !== null && typeof v === "object") {
      const entries = Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      todo.push(["}"]);
      for (let i = entries.length - 1; i >= 0; i--) todo.push([null, entries[i]![1]], [`${i > 0 ? "," : "{"}${JSON.stringify(entries[i]![0])}:`]);
      if (entries.length === 0) todo.push(["{"]);
    } else emit(JSON.stringify(v) ?? "null");
  }
}
