/**
 * GET /v1/events/stream: Server-Sent Events, one per stored event (`id:` the event
 * id, `data:` the envelope). It polls the writer thread for events stored after the
 * last one sent, so a client that reconnects with Last-Event-ID gets exactly what it
 * missed (ids grow in commit order): no gap, no duplicate. Without Last-Event-ID it
 * starts at the newest event. A comment line every KEEPALIVE_MS keeps proxies and the
 * server's idle timeout from closing a quiet stream.
 */
import type { AdminAnswer } from "../admin/answers";

export const STREAM_BATCH = 200;
const POLL_MS = 250;
const KEEPALIVE_MS = 5_000;

type Fetch = (after: string | null) => Promise<AdminAnswer>;

export function eventStream(lastEventId: string | null, fetchAfter: Fetch, signal: AbortSignal): Response {
  const encoder = new TextEncoder();
  let after = lastEventId;
  let closed = false;
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (text: string) => controller.enqueue(encoder.encode(text));
      signal.addEventListener("abort", () => (closed = true));
      send(": wa-webhookd event stream\nretry: 2000\n\n");
      let quietSince = Date.now();
      while (!closed) {
        let batch: { events: { id: string }[]; last: string | null };
        try {
          const answer = await fetchAfter(after);
          batch = answer.body as typeof batch;
        } catch {
          send("event: error\ndata: {\"error\":\"storage_unavailable\"}\n\n");
          await Bun.sleep(POLL_MS * 4);
          continue;
        }
        for (const event of batch.events) send(`id: ${event.id}\ndata: ${JSON.stringify(event)}\n\n`);
        after = batch.last;
        if (batch.events.length > 0) quietSince = Date.now();
        else if (Date.now() - quietSince >= KEEPALIVE_MS) {
          send(": keepalive\n\n");
          quietSince = Date.now();
        }
        if (batch.events.length < STREAM_BATCH) await Bun.sleep(POLL_MS);
      }
      try {
        controller.close();
      } catch {
        // already closed by the client going away
      }
    },
    cancel() {
      closed = true;
    },
  });
  return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no" } });
}
