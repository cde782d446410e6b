/**
 * The writer thread's cursor over the inbox log, on real segment files written by the
 * real SegmentLog: only what the request thread published is read, in id order, across
 * sealed segments, from the middle of one after a restart, past a gap SQLite is ahead
 * of, a frame larger than one read whole; a deleted segment is let go.
 */
import { expect, test } from "bun:test";
import { appendFileSync, constants, readdirSync } from "node:fs";
import { join } from "node:path";
import { encodeFrame } from "../../src/store/log-frame";
import { LogEnd } from "../../src/store/log-end";
import { LogReader } from "../../src/store/log-reader";
import { SegmentLog } from "../../src/store/segment-log";
import { StorageError } from "../../src/store/errors";
import type { InboxRecord } from "../../src/store/types";
import { tempDir } from "../support/daemon";
import { descriptors } from "../support/descriptors";
import { writeSegment } from "../support/segments";

const record = (body: string): InboxRecord => ({
  body: new TextEncoder().encode(body),
  signature: "sha256=" + "b".repeat(64),
  userAgent: null,
  remoteAddr: "127.0.0.1",
  forwardedFor: null,
  receivedAt: 1_764_000_000_000,
});
const text = (frames: { id: number; body: Uint8Array }[]) => frames.map((f) => [f.id, new TextDecoder().decode(f.body)]);

test("reads only up to the published end, in order, across a sealed segment, in steps of at most `count`", async () => {
  const dir = tempDir();
  const log = await SegmentLog.open(dir, { synchronous: "full", minNextId: 1 });
  await log.append([record("a"), record("b"), record("c")]);
  await log.recycle(0, 3); // seals the first segment (an erasure's way): 4 on go to a new one
  await log.append([record("d"), record("e")]);
  expect(readdirSync(dir).filter((f) => f.endsWith(".seg"))).toHaveLength(2);

  const reader = new LogReader(dir, 0);
  expect(text(reader.read(2, 10))).toEqual([[1, "a"], [2, "b"]]); // 3.. is written but not published
  expect(reader.read(2, 10)).toEqual([]);
  expect(text(reader.read(5, 2))).toEqual([[3, "c"], [4, "d"]]);
  expect(text(reader.read(5, 10))).toEqual([[5, "e"]]);
  await log.append([record("f")]);
  expect(text(reader.read(6, 10))).toEqual([[6, "f"]]);
  reader.close();
  await log.close();
});

test("after a restart it starts in the middle of a segment, after what the index holds; past a gap it goes on at the next segment", async () => {
  const dir = tempDir();
  const log = await SegmentLog.open(dir, { synchronous: "normal", minNextId: 1 });
  await log.append(["1", "2", "3", "4"].map(record));
  await log.close();
  expect(text(new LogReader(dir, 2).read(4, 10))).toEqual([[3, "3"], [4, "4"]]);

  // SQLite ahead of the log (`log-gap --skip` after a cut): the log goes on at SQLite's next id, in a segment of its own.
  writeSegment(dir, 50, [record("50")]);
  expect(text(new LogReader(dir, 49).read(50, 10))).toEqual([[50, "50"]]);
});

test("ids before the log's first segment are read past and handed over once, as lost; within the log nothing is", async () => {
  const dir = tempDir();
  const log = await SegmentLog.open(dir, { synchronous: "normal", minNextId: 7 });
  await log.append(["7", "8"].map(record));
  // A database restored from an older backup: indexed through 3; 4–6 went with the newer one.
  const reader = new LogReader(dir, 3);
  expect(reader.takeSkipped()).toBeNull();
  expect(text(reader.read(8, 1))).toEqual([[7, "7"]]);
  expect(reader.takeSkipped()).toEqual({ from: 4, to: 6 });
  expect(reader.takeSkipped()).toBeNull();
  await log.append([record("9")]);
  expect(text(reader.read(9, 10))).toEqual([[8, "8"], [9, "9"]]);
  expect(reader.takeSkipped()).toBeNull();
  reader.close();
  const current = new LogReader(dir, 6);
  expect(text(current.read(9, 10)).map(([id]) => id)).toEqual([7, 8, 9]);
  expect(current.takeSkipped()).toBeNull();
  current.close();
  await log.close();
});

test("a log whose only segment is still empty and starts past the index: the ids between are lost, nothing else is wrong", async () => {
  const dir = tempDir();
  // The daemon recycled 1–5 while idle and opened an empty segment for 6 on; the database was then restored to a backup indexed through 3.
  writeSegment(dir, 6, []);
  const reader = new LogReader(dir, 3);
  expect(reader.read(5, 10)).toEqual([]);
  expect(reader.takeSkipped()).toEqual({ from: 4, to: 5 });
  writeSegment(dir, 6, [record("6")]);
  expect(text(reader.read(6, 10))).toEqual([[6, "6"]]);
  expect(reader.takeSkipped()).toBeNull();
  reader.close();
});

test("a frame larger than one read is read whole", async () => {
  const dir = tempDir();
  const log = await SegmentLog.open(dir, { synchronous: "normal", minNextId: 1 });
  const big = "x".repeat(5 * 1024 * 1024);
  await log.append([record("small"), record(big), record("after")]);
  await log.close();
  const frames = new LogReader(dir, 0).read(3, 10);
  expect(frames.map((f) => f.body.length)).toEqual([5, big.length, 5]);
});

test("a published webhook missing from the log is storage trouble (corrupt), not an endless wait", async () => {
  const dir = tempDir();
  const log = await SegmentLog.open(dir, { synchronous: "normal", minNextId: 1 });
  await log.append([record("one")]);
  const reader = new LogReader(dir, 0);
  expect(text(reader.read(1, 10))).toEqual([[1, "one"]]);
  const err = (() => {
    try {
      return reader.read(2, 10);
    } catch (e) {
      return e;
    }
  })();
  expect(err).toBeInstanceOf(StorageError);
  expect((err as StorageError).kind).toBe("corrupt");

  await log.close();
});

test("released when caught up, it holds no descriptor (a segment deleted meanwhile leaves no bytes behind) and goes on where it was", async () => {
  const dir = tempDir();
  const log = await SegmentLog.open(dir, { synchronous: "normal", minNextId: 1 });
  await log.append([record("one"), record("two")]);
  const reader = new LogReader(dir, 0);
  // The reader's descriptors: read-only ones on the log (the log writes through a read-write one; 0o3: the access mode bits).
  const held = () => descriptors().filter((d) => d.target.startsWith(dir) && (d.flags & 0o3) === constants.O_RDONLY);
  expect(text(reader.read(1, 10))).toEqual([[1, "one"]]);
  expect(held()).toHaveLength(1);
  reader.release();
  expect(held()).toEqual([]);
  expect(text(reader.read(2, 10))).toEqual([[2, "two"]]); // from where it stopped

  // All of it indexed, then an erasure's recycle deletes the segment while the reader is released.
  reader.release();
  await log.recycle(2, 2);
  expect(readdirSync(dir).filter((f) => f.endsWith(".seg"))).toEqual(["0000000000000003.seg"]);
  await log.append([record("three")]);
  expect(text(reader.read(3, 10))).toEqual([[3, "three"]]);
  reader.close();
  await log.close();
});

test("a frame being written past the published end is never read; once whole and published, it is", async () => {
  const dir = tempDir();
  const log = await SegmentLog.open(dir, { synchronous: "normal", minNextId: 1 });
  await log.append([record("whole")]);
  await log.close();
  const [segment] = readdirSync(dir).filter((f) => f.endsWith(".seg"));
  const next = encodeFrame(2, record("torn"));
  appendFileSync(join(dir, segment!), next.subarray(0, next.length - 3));
  const reader = new LogReader(dir, 0);
  expect(text(reader.read(1, 10))).toEqual([[1, "whole"]]);
  expect(reader.read(1, 10)).toEqual([]);
  appendFileSync(join(dir, segment!), next.subarray(next.length - 3));
  expect(text(reader.read(2, 10))).toEqual([[2, "torn"]]);
});

test("LogEnd: a wait is woken by a publish from another thread; one that has moved already does not wait", async () => {
  const end = new LogEnd(7);
  expect(end.id).toBe(7);
  const shared = new LogEnd(end.buffer); // as the writer thread holds it
  let woken = false;
  const waiting = shared.movedFrom(7).then(() => (woken = true));
  await Bun.sleep(20);
  expect(woken).toBe(false);
  end.publish(9);
  await waiting;
  expect(shared.id).toBe(9);
  await shared.movedFrom(7); // moved already: at once
});
