/**
 * GET /v1/events/stream: Server-Sent Events, one per stored event (`id:` the event
 * id, `data:` the envelope), read through the stream hub (http/stream-hub.ts). A
 * client that reconnects with Last-Event-ID gets exactly what it missed: no gap, no
 * duplicate (the hub places it at that event's cursor, which grows in the order events
 * are sent: domain/stream-cursor.ts). Without Last-Event-ID it starts now, with the
 * events stored from then on. A comment line every KEEPALIVE_MS keeps proxies and the server's idle timeout
 * from closing a quiet stream.
 *
 * Each client has a buffer of STREAM_BUFFER_BYTES for what its socket has not taken
 * yet (Bun stops reading the stream while the socket is backed up). Events are read
 * only while at least half the buffer is free, and only as many as fit, so a slow
 * reader holds at most its buffer. A client that leaves more than half of it unread
 * for STREAM_BEHIND_MS has fallen behind (events arrive faster than it reads): it gets
 * a final `dropped` event naming the last event id it was sent, and the stream ends;
 * reconnecting with that Last-Event-ID resumes with nothing lost.
 */
import { cursorEventId } from "../domain/stream-cursor";
import type { EventFilter } from "../store/event-query";
import type { Logger } from "../util/log";
import type { StreamHub } from "./stream-hub";

export const STREAM_BATCH = 200;
export const STREAM_BUFFER_BYTES = 512 << 10;
export const STREAM_BEHIND_MS = 5_000;
const POLL_MS = 250;
const KEEPALIVE_MS = 5_000;

export function eventStream(lastEventId: string | null, filter: EventFilter, hub: StreamHub, signal: AbortSignal, log: Logger): Response {
  const encoder = new TextEncoder();
  /** The client's cursor; until placed by the hub, the event id it resumes after. */
  let after = lastEventId;
  let placed = lastEventId === null;
  let closed = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      async start(controller) {
        const send = (text: string) => controller.enqueue(encoder.encode(text));
        const leave = hub.join();
        signal.addEventListener("abort", () => (closed = true));
        send(": wa-webhookd event stream\nretry: 2000\n\n");
        let quietSince = Date.now();
        let roomSince = Date.now();
        while (!closed) {
          const room = controller.desiredSize ?? 0;
          if (room < STREAM_BUFFER_BYTES / 2) {
            if (Date.now() - roomSince < STREAM_BEHIND_MS) {
              await Bun.sleep(POLL_MS);
              continue;
            }
            send(droppedEvent(after));
            log.info("event stream: dropped a client that fell behind", { unread_bytes: STREAM_BUFFER_BYTES - room, last_event_id: after });
            break;
          }
          roomSince = Date.now();
          let read;
          try {
            if (!placed) [after, placed] = [await hub.resumeAt(after!), true];
            read = await hub.read(filter, after, room);
          } catch {
            send('event: error\ndata: {"error":"storage_unavailable"}\n\n');
            await Bun.sleep(POLL_MS * 4);
            continue;
          }
          if (closed) break;
          for (const message of read.messages) controller.enqueue(message);
          after = read.last;
          if (read.messages.length > 0) quietSince = Date.now();
          else if (Date.now() - quietSince >= KEEPALIVE_MS) {
            send(": keepalive\n\n");
            quietSince = Date.now();
          }
          if (!read.more) await Bun.sleep(POLL_MS);
        }
        leave();
        try {
          controller.close();
        } catch {
          // already closed by the client going away
        }
      },
      cancel() {
        closed = true;
      },
    },
    { highWaterMark: STREAM_BUFFER_BYTES, size: (chunk) => chunk?.byteLength ?? 0 },
  );
  return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no" } });
}

/** The last message to a client that fell behind: where to resume. */
function droppedEvent(after: string | null): string {
  const body = {
    error: "too_slow",
    reason: `more than ${STREAM_BUFFER_BYTES / 2048} KiB left unread for ${STREAM_BEHIND_MS / 1000} s: reconnect with Last-Event-ID to resume`,
    // A stream that started on an empty database has no event to resume after: start anew.
    last_event_id: after === null ? null : cursorEventId(after),
  };
  return `event: dropped\ndata: ${JSON.stringify(body)}\n\n`;
}
