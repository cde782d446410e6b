/**
 * Keys that survive SQLite's UTF-8 storage unchanged. JSON may carry lone surrogates
 * ("\ud800"); stored as text they all become U+FFFD, so two distinct wamids would
 * share a dedup key and one real message would be dropped as a duplicate. A string
 * that is not well-formed (or that starts with the escape marker) is stored escaped,
 * which keeps the mapping one-to-one; every ordinary key is stored as it is.
 */
const MARKER = "~esc:";

export function storableKey(key: string): string {
  if (key.isWellFormed() && !key.startsWith(MARKER)) return key;
  let out = MARKER;
  for (let i = 0; i < key.length; i++) {
    const unit = key.charCodeAt(i);
    const isHigh = unit >= 0xd800 && unit <= 0xdbff;
    const next = key.charCodeAt(i + 1);
    if (isHigh && next >= 0xdc00 && next <= 0xdfff) {
      out += key[i]! + key[i + 1]!;
      i++;
    } else if ((unit >= 0xd800 && unit <= 0xdfff) || key[i] === "\\") {
      out += `\\u${unit.toString(16).padStart(4, "0")}`;
    } else out += key[i];
  }
  return out;
}
