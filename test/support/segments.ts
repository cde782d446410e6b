/**
 * Segment files written directly, as a damaged or hand-edited log leaves them (a gap
 * between segments, a log the index is ahead of): the real SegmentLog refuses to make
 * such a log, so tests that need one write its frames themselves.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { encodeFrames } from "../../src/store/log-frame";
import { segmentPath } from "../../src/store/segment-log";
import type { InboxRecord } from "../../src/store/types";

/** A segment holding `records` with ids from `first` on. */
export function writeSegment(dir: string, first: number, records: readonly InboxRecord[]) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(segmentPath(dir, first), encodeFrames(first, records));
}
