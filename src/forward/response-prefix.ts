/**
 * The first bytes of a hook's answer, and nothing more. A hook may answer 50 MB, or
 * a small gzip that inflates to gigabytes; reading it whole would take memory and
 * time from the thread that commits webhooks. Only what is kept is read; a longer
 * body is cancelled (that connection is closed), a short one is read to its end
 * (that connection can be reused).
 */
const utf8 = new TextDecoder("utf-8", { fatal: false });

export async function responsePrefix(res: Response, maxBytes: number): Promise<string> {
  // Declared short (a hook's usual "ok" or empty answer): read whole, without a stream reader.
  const declared = res.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) <= maxBytes) {
    try {
      return utf8.decode(new Uint8Array(await res.arrayBuffer()).subarray(0, maxBytes));
    } catch {
      return ""; // a body that fails mid-way: nothing kept
    }
  }
  const reader = res.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body that fails mid-way: keep what arrived.
  } finally {
    await reader.cancel().catch(() => {});
  }
  const bytes = Buffer.concat(chunks, size).subarray(0, maxBytes);
  return utf8.decode(bytes);
}
