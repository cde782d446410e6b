/**
 * A client of GET /v1/events/stream over a raw socket, so that it can read as slowly
 * as a test wants (pause between reads), and that reconnects as an EventSource does:
 * `retry` ms after the stream ends, with Last-Event-ID set to the last event it got.
 */
import { connect, type Socket } from "node:net";
import { TOKEN } from "./filled";

export interface SseMessage {
  id: string | null;
  event: string;
  data: string;
}

/** Complete messages in `text` (those ended by a blank line) and what is left over. */
export function parseSse(text: string): { messages: SseMessage[]; rest: string } {
  const blocks = text.split("\n\n");
  const rest = blocks.pop()!;
  const messages: SseMessage[] = [];
  for (const block of blocks) {
    const fields = new Map<string, string>();
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const at = line.indexOf(": ");
      if (at > 0) fields.set(line.slice(0, at), line.slice(at + 2));
    }
    if (fields.has("data")) messages.push({ id: fields.get("id") ?? null, event: fields.get("event") ?? "message", data: fields.get("data")! });
  }
  return { messages, rest };
}

export interface SseReader {
  /** Event ids received, in order, over every connection. */
  ids: string[];
  /** The `dropped` messages received. */
  dropped: SseMessage[];
  connections: number;
  /** The current connection has ended (the server closed it). */
  ended: boolean;
  bytes: number;
  /** From now on, read as fast as the stream comes. */
  resume(): void;
  stop(): void;
}

/**
 * Reads one chunk, then pauses `pauseMs` before the next (Infinity: until resume()).
 * `reconnect`: start again `retryMs` after the stream ends, from the last id.
 */
export function sseReader(port: number, opts: { path?: string; pauseMs: number; lastEventId?: string; reconnect?: boolean; retryMs?: number }): SseReader {
  let socket: Socket | null = null;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let pauseMs = opts.pauseMs;
  const reader: SseReader = {
    ids: [],
    dropped: [],
    connections: 0,
    ended: false,
    bytes: 0,
    resume() {
      pauseMs = 0;
      socket?.resume();
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      socket?.destroy();
    },
  };
  const open = (lastId: string | undefined) => {
    reader.connections++;
    reader.ended = false;
    let raw = Buffer.alloc(0);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let need = 1; // bytes `raw` must hold before it can be read further
    let text = "";
    let inBody = false;
    const decoder = new TextDecoder();
    const s = connect(port, "127.0.0.1", () =>
      s.write(`GET ${opts.path ?? "/v1/events/stream"} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n${lastId ? `Last-Event-ID: ${lastId}\r\n` : ""}\r\n`),
    );
    socket = s;
    s.on("data", (chunk: Buffer) => {
      reader.bytes += chunk.length;
      pause();
      // Joined only once enough has arrived: a large chunk read piecewise is copied once.
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (raw.length + pendingBytes < need) return;
      raw = Buffer.concat([raw, ...pending]);
      pending = [];
      pendingBytes = 0;
      if (!inBody) {
        const end = raw.indexOf("\r\n\r\n");
        if (end < 0) return;
        raw = raw.subarray(end + 4);
        inBody = true;
      }
      // The body is chunked: <size in hex>\r\n<bytes>\r\n …
      need = raw.length + 1;
      for (;;) {
        const eol = raw.indexOf("\r\n");
        if (eol < 0) break;
        const size = parseInt(raw.subarray(0, eol).toString("latin1"), 16);
        if (size === 0) {
          s.destroy(); // the response is over (the connection would stay open for another request)
          break;
        }
        if (raw.length < eol + 2 + size + 2) {
          need = eol + 2 + size + 2;
          break;
        }
        text += decoder.decode(raw.subarray(eol + 2, eol + 2 + size), { stream: true });
        raw = raw.subarray(eol + 2 + size + 2);
        need = raw.length + 1;
      }
      const { messages, rest } = parseSse(text);
      text = rest;
      for (const m of messages) {
        if (m.id !== null) reader.ids.push(m.id);
        if (m.event === "dropped") reader.dropped.push(m);
      }
    });
    const pause = () => {
      if (pauseMs <= 0) return;
      s.pause();
      if (Number.isFinite(pauseMs)) timer = setTimeout(() => s.resume(), pauseMs);
    };
    s.on("error", () => {});
    s.on("close", () => {
      reader.ended = true;
      if (stopped || !opts.reconnect) return;
      timer = setTimeout(() => open(reader.ids.at(-1) ?? lastId), opts.retryMs ?? 2_000);
    });
  };
  open(opts.lastEventId);
  return reader;
}
