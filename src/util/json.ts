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
