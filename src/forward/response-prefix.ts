/**
 * The first bytes of a hook's answer, and nothing more. A hook may answer 50 MB, or
 * a small gzip that inflates to gigabytes; reading it whole would take memory and
 * time from the thread that commits webhooks. Only what is kept is read; a longer
 * body is cancelled (that connection is closed), a short one is read to its end
 * (that connection can be reused).
 */
export async function responsePrefix(res: Response, maxBytes: number): Promise<string> {
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
  return new TextDecoder("utf-8", { fatal: false }).decode(bytes);
}
