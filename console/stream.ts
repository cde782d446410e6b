/**
 * The live tail (GET /v1/events/stream) read with fetch, not EventSource: EventSource
 * cannot send the Authorization header. Server-sent events are parsed here; a dropped
 * connection reconnects with Last-Event-ID, so nothing is missed or shown twice.
 */
import { headers, query, session, Unauthorized } from "./api";
import type { Envelope } from "./types";

export interface StreamFilter {
  type?: string;
  phone_number_id?: string;
}

/** Calls `onEvent` for each event until `signal` aborts; `onState` says connected / reconnecting. */
export async function follow(filter: StreamFilter, onEvent: (e: Envelope) => void, onState: (s: "live" | "reconnecting" | "refused") => void, signal: AbortSignal) {
  let last: string | null = null;
  while (!signal.aborted) {
    try {
      const res: Response = await fetch(`/v1/events/stream${query({ ...filter })}`, { headers: { ...headers(), accept: "text/event-stream", ...(last ? { "last-event-id": last } : {}) }, signal });
      if (res.status === 401) {
        session.clear();
        onState("refused");
        throw new Unauthorized("The daemon refused this token.");
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      onState("live");
      for await (const message of messages(res.body, signal) as AsyncGenerator<SseMessage>) {
        if (message.id) last = message.id;
        if (message.event === "event" || (message.event === undefined && message.data)) onEvent(JSON.parse(message.data) as Envelope);
      }
    } catch (err) {
      if (signal.aborted || err instanceof Unauthorized) return;
    }
    onState("reconnecting");
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

async function* messages(body: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  signal.addEventListener("abort", () => void reader.cancel().catch(() => {}));
  let buffer = "";
  let current: SseMessage = { data: "" };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, "");
      buffer = buffer.slice(nl + 1);
      if (line === "") {
        if (current.data || current.id) yield current;
        current = { data: "" };
      } else if (!line.startsWith(":")) {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") current.data += current.data ? `\n${text}` : text;
        else if (field === "id") current.id = text;
        else if (field === "event") current.event = text;
      }
    }
  }
}
