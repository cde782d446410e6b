/**
 * One webhook as a frame of the segment log (store/segment-log.ts), and back. Pure.
 *
 *   magic u32 "WAF1" | length u32 (of what follows the checksum) | crc32 u32 of it |
 *   id f64 | received_at f64 | signature, user_agent, remote_addr, forwarded_for
 *   (each u16 length, 0xFFFF for none, then UTF-8) | body (the rest, byte for byte)
 *
 * Little-endian. A frame is valid only whole, with its checksum, and with the id that
 * follows the previous frame's: a torn write at the tail, or zeros past the end of a
 * preallocated segment, end the log there.
 */
import type { InboxRecord } from "./types";

export const FRAME_MAGIC = 0x31464157; // "WAF1"
const HEADER = 12;
const NONE = 0xffff;
const MAX_TEXT = 0xfffe;

export interface Framed extends InboxRecord {
  id: number;
}

const utf8 = new TextEncoder();
const text = new TextDecoder();

export function encodeFrame(id: number, r: InboxRecord): Uint8Array {
  return encodeFrames(id, [r]);
}

/** A header's text, cut to what a frame holds (subarray only when it must: JavaScriptCore's is slow, profiled). */
function encodeText(s: string | null): Uint8Array | null {
  if (s === null) return null;
  const bytes = utf8.encode(s);
  return bytes.length > MAX_TEXT ? bytes.subarray(0, MAX_TEXT) : bytes;
}

/** The records' frames, ids from `firstId` on, in one buffer. */
export function encodeFrames(firstId: number, records: readonly InboxRecord[]): Uint8Array {
  const fields = records.map((r) => [r.signature, r.userAgent, r.remoteAddr, r.forwardedFor].map(encodeText));
  const lengths = records.map((r, i) => 16 + fields[i]!.reduce((n, f) => n + 2 + (f?.length ?? 0), 0) + r.body.length);
  const out = new Uint8Array(lengths.reduce((n, l) => n + HEADER + l, 0));
  const view = new DataView(out.buffer);
  let start = 0;
  records.forEach((r, i) => {
    view.setUint32(start, FRAME_MAGIC, true);
    view.setUint32(start + 4, lengths[i]!, true);
    view.setFloat64(start + 12, firstId + i, true);
    view.setFloat64(start + 20, r.receivedAt, true);
    let at = start + 28;
    for (const f of fields[i]!) {
      view.setUint16(at, f === null ? NONE : f.length, true);
      at += 2;
      if (f) {
        out.set(f, at);
        at += f.length;
      }
    }
    out.set(r.body, at);
    const end = start + HEADER + lengths[i]!;
    view.setUint32(start + 8, Bun.hash.crc32(out.subarray(start + HEADER, end)), true);
    start = end;
  });
  return out;
}

/**
 * The valid frames of `bytes` from `offset`: each whole, checksummed, its id following
 * the one before (`nextId` for the first; null: any), none past `throughId` and at most
 * `count` of them. `end` is where the frames returned end.
 */
export function decodeFrames(
  bytes: Uint8Array,
  offset: number,
  nextId: number | null,
  { throughId = Infinity, count = Infinity }: { throughId?: number; count?: number } = {},
): { frames: Framed[]; end: number; lastId: number | null } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames: Framed[] = [];
  let at = offset;
  let expected = nextId;
  while (frames.length < count && (expected === null || expected <= throughId) && at + HEADER <= bytes.length && view.getUint32(at, true) === FRAME_MAGIC) {
    const length = view.getUint32(at + 4, true);
    if (length < 24 || at + HEADER + length > bytes.length) break;
    const payload = bytes.subarray(at + HEADER, at + HEADER + length);
    if (Bun.hash.crc32(payload) !== view.getUint32(at + 8, true)) break;
    const framed = readPayload(payload);
    if (framed === null || (expected !== null && framed.id !== expected) || framed.id > throughId) break;
    frames.push(framed);
    expected = framed.id + 1;
    at += HEADER + length;
  }
  return { frames, end: at, lastId: frames.length > 0 ? frames[frames.length - 1]!.id : null };
}

function readPayload(p: Uint8Array): Framed | null {
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const id = view.getFloat64(0, true);
  const receivedAt = view.getFloat64(8, true);
  let at = 16;
  const fields: (string | null)[] = [];
  for (let i = 0; i < 4; i++) {
    if (at + 2 > p.length) return null;
    const n = view.getUint16(at, true);
    at += 2;
    if (n === NONE) fields.push(null);
    else {
      if (at + n > p.length) return null;
      fields.push(text.decode(p.subarray(at, at + n)));
      at += n;
    }
  }
  if (!Number.isSafeInteger(id) || id < 1 || fields[0] === null) return null;
  return { id, receivedAt, signature: fields[0]!, userAgent: fields[1]!, remoteAddr: fields[2]!, forwardedFor: fields[3]!, body: p.slice(at) };
}
