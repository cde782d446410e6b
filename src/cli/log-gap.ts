/**
 * `wa-webhookd log-gap --config F [--skip]`: the way out when the inbox log lost webhooks
 * it had acknowledged (its files changed under the daemon: a segment cut short, moved or
 * deleted by hand, a restore of another day's directory). Ids missing between two
 * segments stop the writer thread's index there (running, /readyz is not ready,
 * "corrupt"); a log whose newest segment ends before the index, or whose current segment
 * is gone, is not opened at all. Without --skip this says which; with it, what the log
 * holds before a gap is indexed and the index moves past it, and a damaged end goes on in
 * a new segment after the index. What was lost is lost for good: Meta does not resend a
 * webhook it got a 200 for. The daemon must be stopped (the instance lock says so).
 */
import type { OperatorConfig } from "../config/schema";
import { sqliteInbox } from "../store/inbox-store";
import { acquireInstanceLock, InstanceLockedError } from "../store/instance-lock";
import { describeCut, framesAfter, logCurrentGone, logCutShort, logGap, missingBeforeLog, segmentsDir, startAfterCut } from "../store/segment-log";
import { openExisting, OperatorError } from "./operator";

const them = (r: { from: number; to: number }) => (r.from === r.to ? "it" : "them");
/** "webhook id 7 was" / "webhook ids 4–5 were": a range of one said in the singular. */
const webhookIds = (r: { from: number; to: number }, one = "", many = "") => (r.from === r.to ? `webhook id ${r.from}${one}` : `webhook ids ${r.from}–${r.to}${many}`);

/** Exit 0: nothing lost, or skipped; 1: webhooks lost, left as they are (run again with --skip). */
export async function runLogGap(config: OperatorConfig, skip: boolean, json: boolean): Promise<number> {
  const path = config.storage.path;
  let lock;
  try {
    lock = acquireInstanceLock(path);
  } catch (err) {
    if (err instanceof InstanceLockedError) throw new OperatorError(`log-gap: the daemon is running on ${path}; stop it first (its writer thread reads the log)`);
    throw err;
  }
  try {
    const db = openExisting(path, config.storage.synchronous);
    try {
      const inbox = sqliteInbox(db);
      const through = inbox.indexedThrough();
      const dir = segmentsDir(path);
      const gap = logGap(dir, through);
      const lost = missingBeforeLog(dir, through);
      let before = 0;
      if (gap && skip) {
        for (const frames of framesAfter(dir, through)) {
          const held = frames.filter((f) => f.id < gap.from);
          if (held.length === 0) break;
          inbox.index(held);
          before += held.length;
        }
        inbox.skipThrough(gap.to);
      }
      const indexed = skip && gap ? gap.to : through;
      // The log's end: its newest segment cut short below the index, or the one appends went to gone. The daemon will not open it.
      const cut = logCutShort(dir, indexed);
      const gone = logCurrentGone(dir);
      const endLost = cut ? describeCut(cut) : gone;
      if (endLost && skip) await startAfterCut(dir, indexed);
      const said = !gap
        ? endLost || lost
          ? null
          : `log-gap: none; the inbox log holds the webhooks after the index (indexed through ${through})`
        : skip
          ? `log-gap: indexed the ${before} webhooks before the gap, and skipped ${webhookIds(gap)}, acknowledged but no longer in the inbox log (lost); indexing goes on from ${gap.to + 1}. Run it again to look for another gap`
          : `log-gap: ${webhookIds(gap, " was", " were")} acknowledged but the inbox log no longer holds ${them(gap)} (its files changed under the daemon); the daemon cannot index past ${them(gap)}. --skip moves the index past ${them(gap)}: lost (Meta does not resend an acknowledged webhook)`;
      const end =
        endLost &&
        (skip
          ? `log-gap: ${endLost}; the log goes on in a new segment from ${indexed + 1} (ids after ${indexed} given to webhooks that were lost are given again)`
          : `log-gap: ${endLost}; the daemon will not start on it. --skip goes on in a new segment from ${indexed + 1}: what was lost stays lost (Meta does not resend an acknowledged webhook)`);
      // Read past by the daemon, not stopped at (nothing to skip), but lost all the same.
      const before_log = lost && `log-gap: ${webhookIds(lost, " is", " are")} in neither the database nor the inbox log (the log starts after them: a database restored from an older backup, or segments deleted by hand); the daemon indexes on after them`;
      const answer = { indexed_through: indexed, gap, skipped: skip && (gap !== null || endLost !== null), indexed_before_gap: before, missing_before_log: lost, end_lost: endLost };
      process.stdout.write((json ? JSON.stringify(answer) : [before_log, end, said].filter(Boolean).join("\n")) + "\n");
      return (gap || endLost) && !skip ? 1 : 0;
    } finally {
      db.close();
    }
  } finally {
    lock.release();
  }
}
