/**
 * What every client of the live stream shares: while any is connected, one poll of the
 * writer thread for events after the newest one seen (whatever the clients' filters),
 * kept ready to send (the SSE message, encoded once) in a window of the last
 * WINDOW_BYTES. A client whose cursor is inside the window is served from memory, its
 * filter applied here; one further behind (a reconnect after a long absence) reads the
 * database itself until it reaches the window. However many clients follow the stream,
 * the writer thread is asked for each new event once.
 *
 * Positions are the engine's stream cursors (domain/stream-cursor.ts), which grow in the
 * order events are sent: on SQLite the event ids themselves, on PostgreSQL (transaction,
 * id). A client resuming with Last-Event-ID (an event id) is placed by `resumeAt`.
 */
import { type EventFilter, eventMatches, type StreamBatch, type StreamRow } from "../store/event-query";

/** Where the stream stands after a row: its cursor (PostgreSQL), else its id (SQLite). */
export const cursorOf = (row: StreamRow): string => row.cursor ?? row.id;

const WINDOW_BYTES = 16 << 20;
const POLL_MS = 250;
const POLL_BYTES = 1 << 20;
const EVERY_EVENT: EventFilter = { types: null, phoneNumberId: null, wamid: null, waId: null, since: null, until: null };

/** Events after cursor `after` that match `filter` and fit in `maxBytes` (at least one), from the database. */
export type FetchAfter = (filter: EventFilter, after: string | null, maxBytes: number) => Promise<StreamBatch>;
/** The cursor at an event a client last received (Last-Event-ID). */
export type ResumeAt = (eventId: string) => Promise<string>;

/** SQLite's: an event id is its own cursor. */
const idIsCursor: ResumeAt = async (eventId) => eventId;

/**
 * SSE messages ready to send, shared by every client they go to (never copied per
 * client); `last` is where the client's cursor moves (events its filter skips included).
 */
export interface StreamRead {
  messages: Uint8Array[];
  last: string | null;
  more: boolean;
}

type Entry = { row: Omit<StreamRow, "envelope">; cursor: string; message: Uint8Array };

const encoder = new TextEncoder();
const message = (e: StreamRow) => encoder.encode(`id: ${e.id}\ndata: ${e.envelope}\n\n`);

export class StreamHub {
  #entries: Entry[] = [];
  /** Entries before this index have left the window (compacted now and then). */
  #first = 0;
  #bytes = 0;
  /** Every event after this cursor, up to #head, is in the window; null while not polling. */
  #start: string | null = null;
  #head: string | null = null;
  #clients = 0;
  #polling = false;
  /** Why the last poll failed (null: it did not): a client waiting at the head is told. */
  #failure: unknown = null;

  constructor(
    private readonly fetchAfter: FetchAfter,
    /** Where a client resuming after an event stands. */
    readonly resumeAt: ResumeAt = idIsCursor,
  ) {}

  /** A client connects: the polling runs while any is connected. Returns its leave(). */
  join(): () => void {
    this.#clients++;
    if (!this.#polling) {
      this.#polling = true;
      void this.#poll();
    }
    let left = false;
    return () => {
      if (!left) this.#clients--;
      left = true;
    };
  }

  /**
   * Forget the window (after an erasure: what it holds may name the person erased);
   * clients behind the newest event read the database again until it refills.
   */
  forget() {
    this.#entries = [];
    this.#first = 0;
    this.#bytes = 0;
    this.#start = this.#head;
  }

  /** The next messages for a client whose cursor is `after` (null: it starts now). */
  async read(filter: EventFilter, after: string | null, maxBytes: number): Promise<StreamRead> {
    if (after !== null && this.#start !== null && after >= this.#start) return this.#fromWindow(filter, after, maxBytes);
    const batch = await this.fetchAfter(filter, after, maxBytes);
    return { messages: batch.events.map(message), last: batch.last, more: batch.more };
  }

  #fromWindow(filter: EventFilter, after: string, maxBytes: number): StreamRead {
    const messages: Uint8Array[] = [];
    let bytes = 0;
    let last = after;
    let i = this.#firstAfter(after);
    for (; i < this.#entries.length; i++) {
      const { row, message } = this.#entries[i]!;
      if (eventMatches(filter, row)) {
        if (messages.length > 0 && bytes + message.byteLength > maxBytes) break;
        messages.push(message);
        bytes += message.byteLength;
      }
      last = this.#entries[i]!.cursor;
    }
    if (messages.length === 0 && this.#failure !== null) throw this.#failure;
    return { messages, last, more: i < this.#entries.length };
  }

  /** The index of the first entry with a cursor greater than `after` (binary search: cursors grow). */
  #firstAfter(after: string): number {
    let lo = this.#first;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#entries[mid]!.cursor <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  async #poll() {
    while (this.#clients > 0) {
      let more = false;
      try {
        const batch = await this.fetchAfter(EVERY_EVENT, this.#head, POLL_BYTES);
        this.#append(batch);
        more = batch.more;
        this.#failure = null;
      } catch (err) {
        this.#failure = err;
      }
      if (!more) await Bun.sleep(POLL_MS);
    }
    this.#head = null;
    this.forget();
    this.#failure = null;
    this.#polling = false;
  }

  #append(batch: StreamBatch) {
    for (const event of batch.events) {
      const { envelope: _envelope, cursor: _cursor, ...row } = event;
      const entry = { row, cursor: cursorOf(event), message: message(event) };
      this.#entries.push(entry);
      this.#bytes += entry.message.byteLength;
    }
    this.#head = batch.last;
    this.#start ??= batch.last;
    while (this.#bytes > WINDOW_BYTES && this.#first < this.#entries.length - 1) {
      const gone = this.#entries[this.#first++]!;
      this.#bytes -= gone.message.byteLength;
      this.#start = gone.cursor;
    }
    if (this.#first > this.#entries.length / 2) {
      this.#entries = this.#entries.slice(this.#first);
      this.#first = 0;
    }
  }
}
