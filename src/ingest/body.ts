/**
 * Reads a request body into memory, refusing to buffer more than `maxBytes`.
 * A declared Content-Length over the limit is refused before reading a byte;
 * a chunked body is cut off as soon as it crosses the limit.
 */
export type BodyResult =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; reason: "too_large" | "bad_length" | "aborted" };

export async function readBoundedBody(request: Request, maxBytes: number): Promise<BodyResult> {
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    if (!/^\d+$/.test(declared)) return { ok: false, reason: "bad_length" };
    if (Number(declared) > maxBytes) return { ok: false, reason: "too_large" };
    try {
      return { ok: true, bytes: new Uint8Array(await request.arrayBuffer()) };
    } catch {
      return { ok: false, reason: "aborted" };
    }
  }
  return readStream(request.body, maxBytes);
}

async function readStream(stream: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<BodyResult> {
  if (stream === null) return { ok: true, bytes: new Uint8Array(0) };
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        return { ok: false, reason: "too_large" };
      }
      chunks.push(value);
    }
  } catch {
    return { ok: false, reason: "aborted" };
  }
  return { ok: true, bytes: Buffer.concat(chunks, size) };
}
