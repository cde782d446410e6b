const utf8 = new TextDecoder("utf-8", { fatal: true });

/** True when the bytes are UTF-8 text holding one JSON value. */
export function isJsonBytes(bytes: Uint8Array): boolean {
  try {
    JSON.parse(utf8.decode(bytes));
    return true;
  } catch {
    return false;
  }
}

/** A run of 16 or more digits: only such a run can be an integer a double may not hold exactly. */
const LONG_DIGITS = /\d{16,}/g;

/** True when some run of digits in the text is beyond 2^53 (Meta's 16-digit ids are below it). */
function mayHoldUnsafeInteger(text: string): boolean {
  for (const [run] of text.matchAll(LONG_DIGITS)) {
    if (run.length > 16 || run > "9007199254740991") return true;
  }
  return false;
}

/**
 * JSON.parse, except that an integer too large for a double to hold exactly (Meta's
 * 16-digit template and account ids, should one pass 2^53) is kept as its digits in a
 * string instead of silently becoming a neighbouring number, which would make two ids
 * one. Only bodies with such a digit run pay for the reviver (JavaScriptCore calls it
 * for every value: several times the parse).
 */
export function parseJsonExact(text: string): unknown {
  if (!mayHoldUnsafeInteger(text)) return JSON.parse(text);
  return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) =>
    typeof value === "number" && !Number.isSafeInteger(value) && context?.source !== undefined && /^-?\d+$/.test(context.source) ? context.source : value,
  );
}
