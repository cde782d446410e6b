/**
 * The inbox log on real files: frames round-trip byte for byte; a torn or corrupt tail
 * ends the log there and is cut off at the next open, which goes on with the next id;
 * segments are sealed by size or age and deleted only once everything in them is indexed.
 */
import { describe, expect, test } from "bun:test";
import { appendFileSync, constants, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeFrames, encodeFrame } from "../../src/store/log-frame";
import { framesAfter, logCurrentGone, logCutShort, logGap, missingBeforeLog, SEAL_AFTER_MS, SEGMENT_BYTES, SegmentLog, startAfterCut } from "../../src/store/segment-log";
import type { InboxRecord } from "../../src/store/types";
import { LogReader } from "../../src/store/log-reader";
import type { StorageError } from "../../src/store/errors";
import { tempDir } from "../support/daemon";
import { descriptors } from "../support/descriptors";
import { writeSegment } from "../support/segments";

const record = (body: string, over: Partial<InboxRecord> = {}): InboxRecord => ({
  body: new TextEncoder().encode(body),
  signature: "sha256=" + "a".repeat(64),
  userAgent: "facebookexternalua",
  remoteAddr: "2001:db8::1",
  forwardedFor: "203.0.113.9, 10.0.0.1",
  receivedAt: 1_764_000_000_123,
  ...over,
});

/** The segment files, oldest first (beside them: the current segment's name, a readiness probe). */
const segmentFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".seg")).sort();
const bodies = (dir: string, after = 0) => [...framesAfter(dir, after)].flat().map((f) => [f.id, new TextDecoder().decode(f.body)]);

describe("frames", () => {
  test("round-trip every field byte for byte, empty and missing ones included", () => {
    const records = [record('{"a":"caf\u00e9 \u{1F600}"}'), record("", { userAgent: null, remoteAddr: null, forwardedFor: null }), record("\u0000 not json")];
    const bytes = Buffer.concat(records.map((r, i) => encodeFrame(41 + i, r)));
    const { frames, end, lastId } = decodeFrames(bytes, 0, 41);
    expect(frames).toEqual(records.map((r, i) => ({ ...r, id: 41 + i })));
    expect([end, lastId]).toEqual([bytes.length, 43]);
  });

  test("a torn frame, a flipped bit, an id out of sequence or zeros end the valid part there", () => {
    const one = encodeFrame(1, record("one"));
    const two = encodeFrame(2, record("two"));
    const valid = one.length;
    expect(decodeFrames(Buffer.concat([one, two.subarray(0, two.length - 1)]), 0, 1).end).toBe(valid);
    const flipped = Buffer.concat([one, two]);
    flipped[flipped.length - 3]! ^= 0x10;
    expect(decodeFrames(flipped, 0, 1).end).toBe(valid);
    expect(decodeFrames(Buffer.concat([one, encodeFrame(3, record("three"))]), 0, 1).end).toBe(valid);
    expect(decodeFrames(Buffer.concat([one, Buffer.alloc(64)]), 0, 1).end).toBe(valid);
    expect(decodeFrames(Buffer.concat([one, two]), 0, 7).frames).toEqual([]);
  });
});

describe("SegmentLog", () => {
  test("appends get consecutive ids after what SQLite already holds, and survive a reopen", async () => {
    const dir = tempDir();
    const log = await SegmentLog.open(dir, { synchronous: "full", minNextId: 100 });
    expect(await log.probe()).toBeNull(); // readiness: a durable write in its directory succeeds
    expect((await log.append([record("a"), record("b")])).ids).toEqual([100, 101]);
    expect((await log.append([record("c")])).ids).toEqual([102]);
    await log.close();
    const again = await SegmentLog.open(dir, { synchronous: "full", minNextId: 1 });
    expect((await again.append([record("d")])).ids).toEqual([103]);
    await again.close();
    expect(bodies(dir)).toEqual([[100, "a"], [101, "b"], [102, "c"], [103, "d"]]);
    expect(bodies(dir, 101)).toEqual([[102, "c"], [103, "d"]]);
  });

  test("a torn tail (a crash mid-write, never acknowledged) is cut off at the next open; ids go on from the last whole frame", async () => {
    const dir = tempDir();
    const log = await SegmentLog.open(dir, { synchronous: "full", minNextId: 1 });
    await log.append([record("kept-1"), record("kept-2")]);
    await log.close();
    const [segment] = segmentFiles(dir);
    const path = join(dir, segment!);
    const whole = statSync(path).size;
    appendFileSync(path, encodeFrame(3, record("torn")).subarray(0, 40));
    const reopened = await SegmentLog.open(dir, { synchronous: "full", minNextId: 1 });
    expect(statSync(path).size).toBe(whole);
    expect((await reopened.append([record("next")])).ids).toEqual([3]);
    await reopened.close();
    expect(bodies(dir)).toEqual([[1, "kept-1"], [2, "kept-2"], [3, "next"]]);
  });

  test("a newest segment ending before what SQLite holds was cut short: refused, named; after log-gap --skip a new segment at SQLite's next id", async () => {
    const dir = tempDir();
    const log = await SegmentLog.open(dir, { synchronous: "normal", minNextId: 1 });
    await log.append(["1", "2", "3"].map((b) => record(b)));
    await log.close();
    // The index went through 49 from this log; the segment now ends at 3: frames it held are gone, and maybe acknowledged ones after 49.
    const refused = await SegmentLog.open(dir, { synchronous: "normal", minNextId: 50 }).then(
      () => null,
      (e: unknown) => e as StorageError,
    );
    expect(refused?.kind).toBe("corrupt");
    expect(refused?.message).toContain("0000000000000001.seg ends at webhook 3, before what the index holds (49)");
    expect(logCutShort(dir, 49)).toMatchObject({ lastId: 3, indexedThrough: 49 });
    // Not cut: the index at or before the log's end, or a segment of its own starting after the index.
    for (const through of [0, 2, 3]) expect(logCutShort(dir, through)).toBeNull();
    await startAfterCut(dir, 49);
    expect(logCutShort(dir, 49)).toBeNull();
    const ahead = await SegmentLog.open(dir, { synchronous: "normal", minNextId: 50 });
    expect((await ahead.append([record("50")])).ids).toEqual([50]);
    await ahead.close();
    expect(segmentFiles(dir).sort()).toEqual(["0000000000000001.seg", "0000000000000050.seg"]);
    expect(bodies(dir, 49)).toEqual([[50, "50"]]);
  });

  test("the segment appends went to, removed under the daemon: refused, named, whatever the index says; a sealed one recycled is not missed", async () => {
    const dir = tempDir();
    let now = 1_000;
    const log = await SegmentLog.open(dir, { synchronous: "normal", minNextId: 1, now: () => now });
    await log.append(["1", "2"].map((b) => record(b)));
    now += SEAL_AFTER_MS;
    expect(await log.recycle(2)).toBe(1); // sealed (all indexed, old) and recycled: 3 on go to a new current segment
    await log.append(["3", "4"].map((b) => record(b)));
    await log.close();
    expect(logCurrentGone(dir)).toBeNull();
    expect(segmentFiles(dir)).toEqual(["0000000000000003.seg"]);
    // 3 and 4 acknowledged, not indexed; then their segment is moved away.
    renameSync(join(dir, "0000000000000003.seg"), join(tempDir(), "moved.seg"));
    const refused = await SegmentLog.open(dir, { synchronous: "normal", minNextId: 3 }).then(
      () => null,
      (e: unknown) => e as StorageError,
    );
    expect(refused?.kind).toBe("corrupt");
    expect(refused?.message).toContain("0000000000000003.seg, the segment webhooks were appended to, is gone");
    expect(logCurrentGone(dir)).toContain("webhooks acknowledged in it (from 3 on) that were not indexed yet may be lost");
    await startAfterCut(dir, 2);
    expect(logCurrentGone(dir)).toBeNull();
    const after = await SegmentLog.open(dir, { synchronous: "normal", minNextId: 3 });
    expect((await after.append([record("new")])).ids).toEqual([3]);
    await after.close();
  });

  test("a crash while sealing (the next segment created, `current` not yet rewritten): the log opens whole, appends go on", async () => {
    const dir = tempDir();
    const log = await SegmentLog.open(dir, { synchronous: "normal", minNextId: 1 });
    await log.append(["1", "2", "3"].map((b) => record(b)));
    await log.close();
    // What #seal leaves when killed between creating the next segment and naming it current.
    expect(readFileSync(join(dir, "current"), "utf8").trim()).toBe("1");
    writeFileSync(join(dir, "0000000000000004.seg"), "");
    expect(logCurrentGone(dir)).toBeNull();
    expect(logCutShort(dir, 2)).toBeNull(); // 1–2 indexed, 3 acknowledged only: still read from the old segment
    const reopened = await SegmentLog.open(dir, { synchronous: "normal", minNextId: 3 });
    expect((await reopened.append([record("4")])).ids).toEqual([4]);
    await reopened.close();
    expect(readFileSync(join(dir, "current"), "utf8").trim()).toBe("4");
    expect(bodies(dir, 2)).toEqual([[3, "3"], [4, "4"]]);
  });

  test("a seal whose `current` cannot be written: that append fails (never acknowledged), appends stay in the old segment, the next seal names the new one", async () => {
    const dir = tempDir();
    const log = await SegmentLog.open(dir, { synchronous: "normal", minNextId: 1 });
    const big = "x".repeat(SEGMENT_BYTES / 3 - 1_000);
    for (let i = 0; i < 3; i++) await log.append([record(big)]);
    mkdirSync(join(dir, "current.tmp")); // `current` is written aside first: now it cannot be
    await expect(log.append([record(big)])).rejects.toThrow();
    expect(segmentFiles(dir)).toEqual(["0000000000000001.seg"]); // the new segment taken back
    expect(readFileSync(join(dir, "current"), "utf8").trim()).toBe("1");
    rmdirSync(join(dir, "current.tmp"));
    expect((await log.append([record("small")])).ids).toEqual([4]); // room left in the old one: still there
    expect((await log.append([record(big)])).ids).toEqual([5]);
    expect(readFileSync(join(dir, "current"), "utf8").trim()).toBe("5");
    expect(await log.recycle(4)).toBe(1); // the old segment goes; `current` names the one appended to
    await log.close();
    expect(logCurrentGone(dir)).toBeNull();
    const reopened = await SegmentLog.open(dir, { synchronous: "normal", minNextId: 5 });
    expect((await reopened.append([record("after")])).ids).toEqual([6]);
    await reopened.close();
  });

  test("a torn tail after what was indexed is a crash's, not a cut: the log opens", async () => {
    const dir = tempDir();
    const log = await SegmentLog.open(dir, { synchronous: "normal", minNextId: 1 });
    await log.append(["1", "2"].map((b) => record(b)));
    await log.close();
    const [segment] = segmentFiles(dir);
    appendFileSync(join(dir, segment!), encodeFrame(3, record("torn")).subarray(0, 20));
    const reopened = await SegmentLog.open(dir, { synchronous: "normal", minNextId: 3 });
    expect((await reopened.append([record("3")])).ids).toEqual([3]);
    await reopened.close();
  });

  test("sealed past its size; a segment goes only once all its ids are indexed; the current one once indexed and old", async () => {
    const dir = tempDir();
    let now = 1_000;
    const log = await SegmentLog.open(dir, { synchronous: "normal", minNextId: 1, now: () => now });
    const big = "x".repeat(SEGMENT_BYTES / 3 - 1_000);
    for (let i = 0; i < 4; i++) await log.append([record(big)]);
    expect(segmentFiles(dir)).toHaveLength(2); // three fit the first segment; the fourth opened another
    expect(await log.recycle(2)).toBe(0); // the first holds 1..3
    expect(await log.recycle(3)).toBe(1);
    expect(segmentFiles(dir)).toEqual(["0000000000000004.seg"]);
    expect(await log.recycle(4)).toBe(0); // all indexed, but young
    now += SEAL_AFTER_MS;
    expect(await log.recycle(4)).toBe(1);
    expect(log.holds(4)).toBe(false);
    expect((await log.append([record("after")])).ids).toEqual([5]);
    await log.close();
    expect(bodies(dir)).toEqual([[5, "after"]]);
  });

  test("a recycle that seals while an append is writing waits for it: the append is acknowledged, the log stays whole, nothing unindexed goes", async () => {
    // The request thread runs both at once: appends in a loop, recycle every second. Sealing
    // closed the segment an append was still writing and fsyncing: the fsync failed, the
    // log broke, and every webhook after it got a 503 until restart (the soak, at 2.5 min).
    const dir = tempDir();
    let now = 1_000;
    const log = await SegmentLog.open(dir, { synchronous: "full", minNextId: 1, now: () => now });
    await log.append([record("first")]);
    now += SEAL_AFTER_MS;
    for (let round = 0; round < 20; round++) {
      const indexed = log.nextId - 1; // everything acknowledged so far is indexed, and the segment is old
      const appending = log.append([record(`during ${round}`), record("x".repeat(64 * 1024))]);
      const recycling = log.recycle(indexed);
      await expect(appending).resolves.toMatchObject({ ids: [indexed + 1, indexed + 2] });
      await recycling;
      expect(log.broken).toBeNull();
      expect(log.holds(indexed + 1)).toBe(true); // acknowledged, not indexed: still in the log
      now += SEAL_AFTER_MS;
    }
    await log.close();
    expect(bodies(dir).filter(([, b]) => String(b).startsWith("during")).map(([, b]) => b)).toEqual(Array.from({ length: 20 }, (_, i) => `during ${i}`));
  });

  test("after an erasure, what it covered goes at once, once indexed; what came since stays until indexed", async () => {
    const dir = tempDir();
    const log = await SegmentLog.open(dir, { synchronous: "full", minNextId: 1 });
    await log.append([record("someone")]);
    const cutoff = log.nextId - 1;
    await log.append([record("news after the erasure began")]);
    await log.recycle(0, cutoff);
    expect(log.holds(cutoff)).toBe(true); // not indexed yet: it must stay
    await log.recycle(1, cutoff);
    expect(log.holds(cutoff)).toBe(true); // sealed with the news in it, not all indexed
    await log.recycle(2, cutoff);
    expect(log.holds(cutoff)).toBe(false);
    await log.close();
    expect(segmentFiles(dir).map((f) => readFileSync(join(dir, f)).length)).toEqual([0]);
  });

  test("a segment deleted or replaced under it: that append fails (never acknowledged) and every later one", async () => {
    const dir = tempDir();
    const log = await SegmentLog.open(dir, { synchronous: "full", minNextId: 1 });
    await log.append([record("1")]);
    const [segment] = segmentFiles(dir);
    writeFileSync(join(dir, `${segment}.new`), ""); // a restore copied over it
    renameSync(join(dir, `${segment}.new`), join(dir, segment!));
    const failed = await log.append([record("2")]).catch((e) => e);
    expect(failed).toMatchObject({ kind: "gone" });
    expect(await log.append([record("3")]).catch((e) => e)).toMatchObject({ kind: "gone" });
    expect(log.broken?.kind).toBe("gone");
    expect((await log.probe())?.kind).toBe("gone");
    await log.close();
  });
});

describe("SegmentLog durability", () => {
  const flagsOn = (path: string) => descriptors().filter((d) => d.target === path).map((d) => d.flags);

  test('synchronous = "full": the segment is written with O_DSYNC (on disk when the write returns); "normal": not', async () => {
    for (const synchronous of ["full", "normal"] as const) {
      const dir = tempDir("wa-seg-sync-");
      const log = await SegmentLog.open(dir, { synchronous, minNextId: 1 });
      await log.append([record("a")]);
      const [segment] = segmentFiles(dir);
      const flags = flagsOn(join(dir, segment!));
      expect(flags).toHaveLength(1);
      expect((flags[0]! & constants.O_DSYNC) !== 0).toBe(synchronous === "full");
      await log.close();
    }
  });
});

describe("gaps (wa-webhookd log-gap)", () => {
  test("ids missing between two segments the writer thread reads are a gap; frames that follow on, or none at all, are not", async () => {
    const dir = tempDir();
    for (const [first, n] of [[1, 3], [6, 2], [8, 1]] as const) writeSegment(dir, first, Array.from({ length: n }, (_, i) => record(`{"i":${i}}`)));
    // Segments 1–3, 6–7, 8: 4 and 5 are nowhere.
    expect(logGap(dir, 0)).toEqual({ from: 4, to: 5 });
    expect(logGap(dir, 2)).toEqual({ from: 4, to: 5 });
    expect(logGap(dir, 5)).toBeNull();
    expect(logGap(dir, 8)).toBeNull();
    // The writer thread stops exactly where a gap is named, from wherever the index stands.
    for (let afterId = 0; afterId <= 8; afterId++) {
      const reader = new LogReader(dir, afterId);
      const stuck = (() => {
        try {
          while (reader.read(8, 100).length > 0);
          return false;
        } catch (err) {
          return (err as StorageError).kind === "corrupt";
        } finally {
          reader.close();
        }
      })();
      expect({ afterId, stuck }).toEqual({ afterId, stuck: logGap(dir, afterId) !== null });
    }
    expect(logGap(tempDir(), 0)).toBeNull();
    // A log that starts after the index's next id (a database restored from an older
    // backup) is read from its start, by the writer thread as here: not a gap.
    const restored = tempDir();
    const log = await SegmentLog.open(restored, { synchronous: "normal", minNextId: 3 });
    await log.append([record("3"), record("4")]);
    await log.close();
    expect(logGap(restored, 0)).toBeNull();
    // …but lost all the same, and named: 1–2 are in neither the database nor the log.
    expect(missingBeforeLog(restored, 0)).toEqual({ from: 1, to: 2 });
    expect(missingBeforeLog(restored, 1)).toEqual({ from: 2, to: 2 });
    for (const afterId of [2, 3, 4, 9]) expect(missingBeforeLog(restored, afterId)).toBeNull();
    expect(missingBeforeLog(dir, 0)).toBeNull(); // starts at 1: the gap there is logGap's
    expect(missingBeforeLog(tempDir(), 0)).toBeNull();
  });
});
