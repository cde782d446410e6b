/**
 * Reads a request body into memory, within three bounds: its own size
 * (`maxBytes`), the bytes all requests may hold at once (the lease), and a deadline
 * for the whole body. A declared Content-Length is checked against `maxBytes` before a
 * byte is read. A small body (most webhooks: a few KB) is reserved whole and read in
 * one call, while such reservations hold less than a quarter of the cap; a larger one,
 * like a chunked body, is counted as its bytes arrive, so that connections declaring
 * megabytes and sending nothing hold nothing (reserved up front, 16 such sockets made
 * every real webhook a 503).
 */
import type { InflightLease } from "./inflight";
import { answerWithin } from "../util/deadline";

export type BodyResult =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; reason: "too_large" | "bad_length" | "aborted" | "busy" | "timeout" };

export interface BodyLimits {
  maxBytes: number;
  timeoutMs: number;
  lease: InflightLease;
}

/** Up to this size a declared body is reserved whole before it arrives. */
export const RESERVED_WHOLE_BYTES = 64 * 1024;

export async function readBoundedBody(request: Request, limits: BodyLimits): Promise<BodyResult> {
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    if (!/^\d+$/.test(declared)) return { ok: false, reason: "bad_length" };
    const length = Number(declared);
    if (length > limits.maxBytes) return { ok: false, reason: "too_large" };
    // Reserved whole while a quarter of the cap is left for bytes not yet arrived (inflight.ts); else counted as they arrive.
    if (length > RESERVED_WHOLE_BYTES || !limits.lease.reserve(length)) return readStream(request.body, limits);
    const read = request.arrayBuffer().then((b): BodyResult => {
      limits.lease.arrived();
      return { ok: true, bytes: new Uint8Array(b) };
    });
    const result = await raceDeadline(read, limits.timeoutMs);
    if (!result.ok && result.reason === "timeout") limits.lease.holdUntil(read.catch(() => {}));
    return result;
  }
  return readStream(request.body, limits);
}

/**
 * The body, or "timeout" once the deadline passes. The read itself cannot be
 * cancelled; it ends when the connection closes (idle timeout, or the
 * `connection: close` the handler answers with).
 */
function raceDeadline(read: Promise<BodyResult>, timeoutMs: number): Promise<BodyResult> {
  return answerWithin(timeoutMs, read.catch((): BodyResult => ({ ok: false, reason: "aborted" })), () => ({ ok: false, reason: "timeout" }));
}

async function readStream(stream: ReadableStream<Uint8Array> | null, limits: BodyLimits): Promise<BodyResult> {
  if (stream === null) return { ok: true, bytes: new Uint8Array(0) };
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const read = async (): Promise<BodyResult> => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { ok: true, bytes: Buffer.concat(chunks, size) };
      size += value.byteLength;
      if (size > limits.maxBytes) return { ok: false, reason: "too_large" };
      if (!limits.lease.take(value.byteLength)) return { ok: false, reason: "busy" };
      chunks.push(value);
    }
  };
  const result = await raceDeadline(read(), limits.timeoutMs);
  if (!result.ok) await reader.cancel().catch(() => {});
  return result;
}
