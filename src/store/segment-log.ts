/**
 * The inbox's durable log: webhooks are acknowledged once their frames (store/log-frame.ts)
 * are written to a segment file opened with O_DSYNC (with synchronous = "full": the write
 * returns once its data is on disk, as write + fdatasync would, in one trip to Bun's
 * thread pool instead of two: +8% acknowledgements with indexing off, measured), on the
 * request thread, without waiting for another thread; the writer thread indexes them
 * into SQLite behind (issue 19: SQLite behind a thread hop capped acknowledgements at
 * ~0.4× a bare server, measured).
 *
 * Segments live in `<storage.path>.segments/`, named by their first id, appended to in
 * order. A segment is sealed when it passes SEGMENT_BYTES, or when everything in it is
 * indexed durably and it is older than SEAL_AFTER_MS, and deleted once everything in
 * it is indexed durably: raw bodies never stay here much longer than they take to
 * index. One append at a time (the inbox's group commit has one batch in flight).
 * A full disk refuses that batch (503) and the next one tries again. Any other failed
 * write (with O_DSYNC a failed sync fails the write) breaks the log until restart (after
 * a failed fsync the kernel may have dropped the pages: retrying on the same file could
 * report success for data that is gone): every append then answers 503 and /readyz is
 * not ready.
 */
import { constants, existsSync, fstatSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { open, rename, unlink, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import { StorageError, toStorageError } from "./errors";
import type { InboxRecord } from "./types";
import { decodeFrames, encodeFrames, type Framed } from "./log-frame";

/** A segment is sealed past this size; a batch larger than that gets a segment of its own. */
export const SEGMENT_BYTES = 16 * 1024 * 1024;
/** A segment whose every webhook is indexed durably is sealed (and then deleted) after this long. */
export const SEAL_AFTER_MS = 10_000;

const SUFFIX = ".seg";
const PROBE = "probe";
/** After a full disk, readiness comes back once this much can be written again (a batch of typical webhooks). */
const PROBE_ROOM_BYTES = 256 * 1024;
/**
 * Names the segment appends go to (its first id), rewritten whenever that changes: a
 * restart that does not find it knows the file was removed under the daemon, with
 * whatever webhooks were acknowledged in it. A segment sealed and recycled never is.
 */
const HEAD = "current";
const nameOf = (first: number) => `${String(first).padStart(16, "0")}${SUFFIX}`;

export const segmentsDir = (storagePath: string) => `${storagePath}.segments`;
export const segmentPath = (dir: string, first: number) => join(dir, nameOf(first));

interface Segment {
  first: number;
  path: string;
}

interface Current extends Segment {
  handle: FileHandle;
  ino: number;
  size: number;
  openedAt: number;
}

export interface SegmentLogOptions {
  /** "full": fdatasync before acknowledging; "normal": the page cache (survives a process crash only). */
  synchronous: "full" | "normal";
  /** The index's next id (what SQLite holds, plus one): ids go on from it, and the log must reach the one before it (else it was cut short). */
  minNextId: number;
  now?: () => number;
}

/** What an operator does about a log cut short (cli/log-gap.ts). */
export const CUT_SHORT_HINT = "`wa-webhookd log-gap` says which; --skip goes on in a new segment";

export class SegmentLog {
  #current: Current;
  /** Sealed segments, oldest first, not yet deleted. */
  readonly #sealed: Segment[];
  #nextId: number;
  #broken: StorageError | null = null;
  /** The last append met a full disk: not ready until one succeeds (the probe's one byte rewrites a block it has). */
  #full: StorageError | null = null;
  /**
   * Appends and recycles, one at a time: both run on the request thread's loop, and a
   * recycle that sealed the segment an append was writing closed it under the fsync (the
   * log broke: 503 until restart) and named the unindexed frames sealed and deletable.
   */
  #turn: Promise<unknown> = Promise.resolve();
  readonly #dir: string;
  readonly #opts: SegmentLogOptions;

  private constructor(dir: string, opts: SegmentLogOptions, current: Current, sealed: Segment[], nextId: number) {
    this.#dir = dir;
    this.#opts = opts;
    this.#current = current;
    this.#sealed = sealed;
    this.#nextId = nextId;
  }

  /** Opens the log after a crash or a clean stop alike: appends go on after the last whole frame. */
  static async open(dir: string, opts: SegmentLogOptions): Promise<SegmentLog> {
    try {
      mkdirSync(dir, { recursive: true });
      const segments = listSegments(dir);
      const last = segments.at(-1);
      const tail = last ? decodeFrames(readFileSync(last.path), 0, last.first) : null;
      const gone = currentGone(dir, segments);
      if (gone) throw new StorageError("corrupt", `${describeGone(gone)}; ${CUT_SHORT_HINT}`);
      const cut = last && tail ? cutShort(last, tail.lastId, opts.minNextId - 1) : null;
      if (cut) throw new StorageError("corrupt", `${describeCut(cut)}; ${CUT_SHORT_HINT}`);
      const nextId = Math.max(tail?.lastId !== null && tail ? tail.lastId + 1 : 0, last?.first ?? 0, opts.minNextId, 1);
      const now = opts.now?.() ?? Date.now();
      // Appends go on in the last segment, after its last whole frame (a torn one is overwritten),
      // unless ids jumped past it (SQLite ahead of the log): then a new segment.
      const continues = last && tail && (tail.lastId ?? last.first - 1) + 1 === nextId;
      const current = continues ? await openSegment(last, tail.end, now, opts.synchronous) : await openSegment({ first: nextId, path: segmentPath(dir, nextId) }, 0, now, opts.synchronous);
      await writeHead(dir, current.first);
      return new SegmentLog(dir, opts, current, continues ? segments.slice(0, -1) : segments, nextId);
    } catch (err) {
      throw toStorageError(err);
    }
  }

  get broken(): StorageError | null {
    return this.#broken;
  }

  /** Null when a durable write in the log's directory succeeds right now (readiness); else why not. */
  async probe(): Promise<StorageError | null> {
    if (this.#broken) return this.#broken;
    if (this.#full) {
      // Room again? Only new blocks can tell (an orchestrator's readiness probe must see it
      // come back without waiting for a webhook); the next append is what clears it for good.
      const room = await this.#probeRoom();
      if (room) return room;
      this.#full = null;
    }
    try {
      const handle = await open(join(this.#dir, PROBE), "w");
      try {
        await handle.write(Buffer.from("1"));
        await handle.datasync();
      } finally {
        await handle.close();
      }
      return null;
    } catch (err) {
      return toStorageError(err);
    }
  }

  /** Null when PROBE_ROOM_BYTES of new blocks can be written durably in the log's directory; else why not. */
  async #probeRoom(): Promise<StorageError | null> {
    const path = join(this.#dir, PROBE);
    try {
      const handle = await open(path, "w");
      try {
        await writeWhole(handle, new Uint8Array(PROBE_ROOM_BYTES), 0);
        await handle.datasync();
      } finally {
        await handle.truncate(0).catch(() => {});
        await handle.close();
      }
      return null;
    } catch (err) {
      return toStorageError(err);
    }
  }

  /** Whether a frame with an id up to `id` is still kept. */
  holds(id: number): boolean {
    const oldest = this.#sealed[0] ?? (this.#current.size > 0 ? this.#current : null);
    return oldest !== null && oldest.first <= id;
  }

  /** The id the next webhook will get. */
  get nextId(): number {
    return this.#nextId;
  }

  /**
   * Writes the records' frames (on disk when the write returns, with synchronous = "full").
   * Once on disk: their ids.
   */
  append(records: readonly InboxRecord[]): Promise<{ ids: number[] }> {
    return this.#inTurn(() => this.#append(records));
  }

  async #append(records: readonly InboxRecord[]): Promise<{ ids: number[] }> {
    if (this.#broken) throw this.#broken;
    const first = this.#nextId;
    const frames = encodeFrames(first, records);
    const bytes = frames.length;
    if (this.#current.size > 0 && this.#current.size + bytes > SEGMENT_BYTES) await this.#seal();
    const current = this.#current;
    try {
      await writeWhole(current.handle, frames, current.size);
    } catch (err) {
      // Nothing of this batch is acknowledged. A full disk refuses the write itself: the next
      // batch overwrites what part of it landed. Any other failure, a failed sync included
      // (the kernel may have dropped the pages): no later append may be acknowledged.
      const e = toStorageError(err);
      if (e.kind !== "full") this.#broken = e;
      else this.#full = e;
      throw e;
    }
    try {
      this.#checkIdentity(current);
    } catch (err) {
      this.#broken = err instanceof StorageError ? err : toStorageError(err);
      throw this.#broken;
    }
    current.size += bytes;
    this.#full = null;
    this.#nextId = first + records.length;
    return { ids: records.map((_, i) => first + i) };
  }

  /**
   * Everything with an id up to `indexedId` is in SQLite, durably: sealed segments all of
   * whose ids are are deleted; the current one is sealed once it is all indexed and old
   * enough, or at once if it holds an id up to `sealHolding` (an erasure wants no copy of
   * what it deleted left here). Returns how many went.
   */
  recycle(indexedId: number, sealHolding = 0): Promise<number> {
    return this.#inTurn(() => this.#recycle(indexedId, sealHolding));
  }

  async #recycle(indexedId: number, sealHolding: number): Promise<number> {
    if (this.#broken) return 0;
    const current = this.#current;
    const age = (this.#opts.now?.() ?? Date.now()) - current.openedAt;
    const allIndexed = this.#nextId - 1 <= indexedId && current.size > 0;
    if ((allIndexed && age >= SEAL_AFTER_MS) || (current.size > 0 && current.first <= sealHolding)) await this.#seal();
    let deleted = 0;
    while (this.#sealed.length > 0) {
      const [oldest, next] = [this.#sealed[0]!, this.#sealed[1] ?? this.#current];
      if (next.first - 1 > indexedId) break; // its last id is the next segment's first, minus one
      await unlink(oldest.path);
      this.#sealed.shift();
      deleted++;
    }
    return deleted;
  }

  close(): Promise<void> {
    return this.#inTurn(() => this.#current.handle.close().catch(() => {}));
  }

  /** Runs `step` once every step started before it has ended (#turn itself never rejects). */
  #inTurn<T>(step: () => Promise<T>): Promise<T> {
    const result = this.#turn.then(step);
    this.#turn = result.catch(() => {});
    return result;
  }

  /**
   * Appends go to a new segment from here. `current` names it before the switch: named
   * after (and its write failing), appends went on in a segment `current` did not name, and
   * once the old one was recycled the next start refused, the named segment gone.
   */
  async #seal() {
    const sealed = this.#current;
    const next = await openSegment({ first: this.#nextId, path: segmentPath(this.#dir, this.#nextId) }, 0, this.#opts.now?.() ?? Date.now(), this.#opts.synchronous);
    try {
      await writeHead(this.#dir, next.first);
    } catch (err) {
      // Appends stay in the old segment, so the empty new one must go: left, a restart would
      // take it for the newest and give its ids again. Not removable: nothing more is acknowledged.
      await next.handle.close().catch(() => {});
      await unlink(next.path).catch((gone) => (this.#broken = toStorageError(gone)));
      throw err;
    }
    this.#current = next;
    this.#sealed.push({ first: sealed.first, path: sealed.path });
    await sealed.handle.close();
  }

  /** The segment must still be the file at its path: a deleted or replaced one would hold what no restart reads. */
  #checkIdentity(current: Current) {
    let ino: number | null;
    try {
      ino = statSync(current.path).ino;
    } catch {
      ino = null;
    }
    if (ino !== current.ino) throw new StorageError("gone", `inbox log segment ${current.path} was deleted or replaced while open`);
  }
}

async function openSegment(s: Segment, size: number, now: number, synchronous: SegmentLogOptions["synchronous"]): Promise<Current> {
  // Created empty if new; an existing one goes on after its last whole frame, and what
  // follows that (a write torn by a crash, never acknowledged) is cut off.
  const created = !existsSync(s.path);
  await (await open(s.path, "a")).close();
  // A new file's name must survive a power cut too, not only what is written into it.
  if (created) await syncDirectory(dirname(s.path));
  const handle = await open(s.path, constants.O_RDWR | (synchronous === "full" ? constants.O_DSYNC : 0));
  if ((await handle.stat()).size > size) {
    await handle.truncate(size);
    await handle.datasync();
  }
  return { ...s, handle, ino: fstatSync(handle.fd).ino, size, openedAt: now };
}

/**
 * Writes all of `bytes` at `position`. A write may take fewer bytes than asked (a disk
 * with room for part of them): the rest is written after it, and a disk with room for
 * none throws ENOSPC. Never acknowledged on a short count: the frame would be torn.
 */
async function writeWhole(handle: FileHandle, bytes: Uint8Array, position: number) {
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    if (bytesWritten === 0) throw Object.assign(new Error("no space left on device (a write took no bytes)"), { code: "ENOSPC" });
    done += bytesWritten;
  }
}

/** Names the current segment durably (written aside, then renamed over: a crash leaves the old name or the new). */
async function writeHead(dir: string, first: number) {
  const aside = join(dir, `${HEAD}.tmp`);
  const handle = await open(aside, "w");
  try {
    await handle.write(Buffer.from(`${first}\n`));
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(aside, join(dir, HEAD));
  await syncDirectory(dir);
}

/** The segment the last run appended to, when its file is no longer there (null: there, or not recorded). */
function currentGone(dir: string, segments: readonly Segment[]): { path: string; first: number } | null {
  let text: string;
  try {
    text = readFileSync(join(dir, HEAD), "utf8");
  } catch {
    return null; // a log from before it was recorded, or none yet
  }
  const first = Number(text.trim());
  if (!Number.isSafeInteger(first) || first < 1 || segments.some((s) => s.first === first)) return null;
  return { path: segmentPath(dir, first), first };
}

const describeGone = (g: { path: string; first: number }) =>
  `inbox log: ${g.path}, the segment webhooks were appended to, is gone (removed under the daemon, or the directory replaced): webhooks acknowledged in it (from ${g.first} on) that were not indexed yet may be lost`;

/** The current segment recorded as removed (see currentGone), described; null when it is there. */
export function logCurrentGone(dir: string): string | null {
  const gone = currentGone(dir, segmentsOrNone(dir));
  return gone && describeGone(gone);
}

/** Off the event loop, as every file operation on the request path: a blocking fsync stalls every connection. */
async function syncDirectory(dir: string) {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The segment files in `dir`, oldest first. */
export function listSegments(dir: string): Segment[] {
  return readdirSync(dir)
    .filter((f) => /^\d{16}\.seg$/.test(f))
    .map((f) => ({ first: Number(f.slice(0, 16)), path: join(dir, f) }))
    .sort((a, b) => a.first - b.first);
}

/**
 * Frames with an id past `afterId`, oldest first, a segment at a time (the writer thread
 * indexes them at start: what was acknowledged but not yet in SQLite when it stopped).
 */
export function* framesAfter(dir: string, afterId: number): Generator<Framed[]> {
  const segments = segmentsOrNone(dir);
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    const next = segments[i + 1];
    if (next && next.first - 1 <= afterId) continue;
    const { frames } = decodeFrames(readFileSync(s.path), 0, s.first);
    const wanted = frames.filter((f) => f.id > afterId);
    if (wanted.length > 0) yield wanted;
  }
}

/**
 * The first run of acknowledged webhooks the log no longer holds past what the index
 * holds, where the writer thread stops (store/log-reader.ts): ids missing between a
 * segment it reads and the next one (its files changed under the daemon). Null when it
 * can read on to the end. Like the reader, a log that starts after the index's next id
 * (a database restored from an older backup) is read from its start, not a gap: see
 * missingBeforeLog.
 */
export function logGap(dir: string, afterId: number): { from: number; to: number } | null {
  const segments = segmentsOrNone(dir);
  if (segments.length === 0) return null;
  const start = readStart(segments, afterId);
  let expected = start.from;
  for (const s of segments.slice(start.index)) {
    if (s.first > expected) return { from: expected, to: s.first - 1 };
    const { lastId } = decodeFrames(readFileSync(s.path), 0, s.first);
    if (lastId !== null && lastId >= expected) expected = lastId + 1;
  }
  return null;
}

export interface CutShort {
  path: string;
  /** The last whole frame left in it (null: none). */
  lastId: number | null;
  indexedThrough: number;
}

/**
 * The newest segment ends before what the index holds, though it starts at or before it:
 * webhooks indexed from it are gone from it, so it was cut short under the daemon (a crash
 * tears only a write never acknowledged, never indexed). Webhooks acknowledged after the
 * index may be gone with them: no restart may go on as if the log were whole.
 */
function cutShort(last: Segment, lastId: number | null, indexedThrough: number): CutShort | null {
  const endsAt = lastId ?? last.first - 1;
  return last.first <= indexedThrough && endsAt < indexedThrough ? { path: last.path, lastId, indexedThrough } : null;
}

export const describeCut = (c: CutShort) =>
  `inbox log: ${c.path} ${c.lastId === null ? "holds no webhook" : `ends at webhook ${c.lastId}`}, before what the index holds (${c.indexedThrough}): it was cut short under the daemon, and webhooks acknowledged after ${c.indexedThrough} may be lost (or the log is older than the database: after a rollback to a release before the inbox log, remove ${dirname(c.path)} once the database is the one to keep; docs/deploy.md, Upgrades)`;

/** The newest segment, if it was cut short below the index (see cutShort). */
export function logCutShort(dir: string, indexedThrough: number): CutShort | null {
  const last = segmentsOrNone(dir).at(-1);
  return last ? cutShort(last, decodeFrames(readFileSync(last.path), 0, last.first).lastId, indexedThrough) : null;
}

/**
 * After a cut (`log-gap --skip`): an empty segment starting after the index, where the
 * log goes on. The cut one holds only indexed webhooks: it is recycled as usual.
 */
export async function startAfterCut(dir: string, indexedThrough: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const path = segmentPath(dir, indexedThrough + 1);
  await (await open(path, "a")).close();
  await syncDirectory(dir);
  await writeHead(dir, indexedThrough + 1);
}

/**
 * Ids past the index that the log starts after: in neither the database nor the log, and
 * read past, not stopped at (the writer thread says so in its log). A database restored
 * from a backup older than the log's first segment, or the oldest segments deleted by hand.
 */
export function missingBeforeLog(dir: string, afterId: number): { from: number; to: number } | null {
  const segments = segmentsOrNone(dir);
  if (segments.length === 0) return null;
  const start = readStart(segments, afterId);
  return start.from > afterId + 1 ? { from: afterId + 1, to: start.from - 1 } : null;
}

/** Where the reader starts: the last segment starting at or before the next id, else the first (from its start). */
function readStart(segments: readonly Segment[], afterId: number): { index: number; from: number } {
  const index = segments.findLastIndex((s) => s.first <= afterId + 1);
  return index < 0 ? { index: 0, from: segments[0]!.first } : { index, from: afterId + 1 };
}

function segmentsOrNone(dir: string): Segment[] {
  try {
    return listSegments(dir);
  } catch {
    return []; // no log yet
  }
}
