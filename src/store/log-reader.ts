/**
 * The writer thread's cursor over the inbox log (store/segment-log.ts): the frames after
 * the ones it has indexed, in id order, read from the segment files (the page cache holds
 * what was just written) up to the end the request thread published (store/log-end.ts).
 * A frame past that end may be half written, or written and not yet on disk: never read.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { decodeFrames, type Framed } from "./log-frame";
import { listSegments, segmentPath } from "./segment-log";
import { StorageError } from "./errors";

/** What an operator does about acknowledged webhooks the log lost (cli/log-gap.ts). */
const GAP_HINT = " (its files changed under the daemon: `wa-webhookd log-gap` names the webhooks missing, and --skip indexes past them)";

/** Read at most this much of a segment at a time (a larger frame is read whole). */
const READ_BYTES = 4 * 1024 * 1024;

export interface IdRange {
  from: number;
  to: number;
}

interface Open {
  first: number;
  fd: number;
  /** Where the next unread frame starts. */
  offset: number;
}

export class LogReader {
  #segment: Open | null = null;
  /** Where reading stopped when the file was let go (`release`): taken up there. */
  #resume: { first: number; offset: number } | null = null;
  /** The id of the next frame to read. */
  #nextId: number;
  /** Ids read past because the log starts after them, not yet said (`takeSkipped`). */
  #skipped: IdRange | null = null;

  /** Reads from the first frame after `afterId` (what the index already holds). */
  constructor(
    private readonly dir: string,
    afterId: number,
  ) {
    this.#nextId = afterId + 1;
  }

  /**
   * The next frames up to `throughId`, at most `count`; fewer (none) when no more are
   * durable yet. Throws StorageError when a frame up to `throughId` is not where the log
   * puts it (the directory changed under the daemon).
   */
  read(throughId: number, count: number): Framed[] {
    const out: Framed[] = [];
    while (this.#nextId <= throughId && out.length < count) {
      const segment = this.#segment ?? this.#open();
      // The log starts after the rest (a restored database; its first segment still empty): nothing up to throughId to read.
      if (this.#nextId > throughId) break;
      const frames = this.#readFrom(segment, throughId, count - out.length);
      if (frames.length > 0) {
        out.push(...frames);
        continue;
      }
      // Nothing more here: the log went on in a segment sealed after this one was.
      this.#close();
      if (this.#open().first === segment.first) {
        this.#close();
        throw new StorageError("corrupt", `inbox log: webhook ${this.#nextId} is acknowledged but not in ${this.dir}${GAP_HINT}`);
      }
    }
    return out;
  }

  /**
   * Lets the segment file go, keeping only the position (the writer thread does so when it
   * has read everything): a segment deleted meanwhile (recycled, or after an erasure) leaves
   * no descriptor keeping its bytes on disk.
   */
  release(): void {
    if (this.#segment) this.#resume = { first: this.#segment.first, offset: this.#segment.offset };
    this.#close();
  }

  /**
   * Ids the reader went past because the log starts after them (no segment holds them or
   * anything before them): in neither the database nor the log, so lost. A database
   * restored from a backup older than the log's first segment, or segments deleted by
   * hand. Null when none since the last call.
   */
  takeSkipped(): IdRange | null {
    const skipped = this.#skipped;
    this.#skipped = null;
    return skipped;
  }

  close(): void {
    this.#resume = null;
    this.#close();
  }

  #readFrom(segment: Open, throughId: number, count: number): Framed[] {
    const size = fstatSync(segment.fd).size;
    if (size <= segment.offset) return [];
    let bytes = this.#bytes(segment, Math.min(size - segment.offset, READ_BYTES));
    let decoded = decodeFrames(bytes, 0, this.#nextId, { throughId, count });
    // A frame larger than one read: read the rest of the segment whole.
    if (decoded.frames.length === 0 && size - segment.offset > bytes.length) {
      bytes = this.#bytes(segment, size - segment.offset);
      decoded = decodeFrames(bytes, 0, this.#nextId, { throughId, count });
    }
    segment.offset += decoded.end;
    if (decoded.lastId !== null) this.#nextId = decoded.lastId + 1;
    return decoded.frames;
  }

  #bytes(segment: Open, length: number): Uint8Array {
    const bytes = new Uint8Array(length);
    const n = readSync(segment.fd, bytes, 0, length, segment.offset);
    return bytes.subarray(0, n);
  }

  /**
   * The segment holding the next id: the last one starting at or before it; else the first
   * after it (ids the log never held, SQLite being ahead of it: reading goes on from there).
   */
  #open(): Open {
    const resume = this.#resume;
    this.#resume = null;
    if (resume) {
      try {
        this.#segment = { first: resume.first, fd: openSync(segmentPath(this.dir, resume.first), "r"), offset: resume.offset };
        return this.#segment;
      } catch {
        // Deleted since, so all of it was indexed: the next frames are in a later segment.
      }
    }
    const segments = listSegments(this.dir);
    const holding = segments.filter((s) => s.first <= this.#nextId).at(-1) ?? segments.find((s) => s.first > this.#nextId);
    if (!holding) throw new StorageError("corrupt", `inbox log: no segment in ${this.dir} holds webhook ${this.#nextId}${GAP_HINT}`);
    if (holding.first > this.#nextId) {
      this.#skipped = { from: this.#skipped?.from ?? this.#nextId, to: holding.first - 1 };
      this.#nextId = holding.first;
    }
    const segment: Open = { first: holding.first, fd: openSync(holding.path, "r"), offset: 0 };
    this.#segment = segment;
    if (holding.first < this.#nextId) segment.offset = this.#offsetOf(segment, this.#nextId);
    return segment;
  }

  /** Where the frame with id `id` starts in a segment that starts before it (at a start: the index holds those before). */
  #offsetOf(segment: Open, id: number): number {
    const skipped = decodeFrames(this.#bytes(segment, fstatSync(segment.fd).size), 0, segment.first, { throughId: id - 1 });
    return skipped.end;
  }

  #close() {
    if (this.#segment) closeSync(this.#segment.fd);
    this.#segment = null;
  }
}
