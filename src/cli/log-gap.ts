/**
 * `wa-webhookd log-gap --config F [--skip]`: the way out when the inbox log lost webhooks
 * it had acknowledged (its files changed under the daemon: a segment cut short or
 * deleted by hand, a restore of another day's directory). The writer thread cannot
 * index past them and says so (it will not start; running, /readyz is not ready,
 * "corrupt"); without --skip this says which ids are gone; with it, what the log holds
 * before them is indexed and the index moves past them, so that the daemon goes on with
 * the webhooks after them. Those ids are lost for good: Meta does not resend a
 * webhook it got a 200 for. The daemon must be stopped (the instance lock says so).
 */
import type { OperatorConfig } from "../config/schema";
import { sqliteInbox } from "../store/inbox-store";
import { acquireInstanceLock, InstanceLockedError } from "../store/instance-lock";
import { framesAfter, logGap, missingBeforeLog, segmentsDir } from "../store/segment-log";
import { openExisting, OperatorError } from "./operator";

const idList = (r: { from: number; to: number }) => (r.from === r.to ? `${r.from}` : `${r.from}–${r.to}`);

/** Exit 0: no gap, or skipped; 1: a gap, left as it is (run again with --skip). */
export function runLogGap(config: OperatorConfig, skip: boolean, json: boolean): number {
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
      const ids = gap && idList(gap);
      const said = !gap
        ? `log-gap: none; the inbox log holds the webhooks after the index (indexed through ${through})`
        : skip
          ? `log-gap: indexed the ${before} webhooks before the gap, and skipped webhook ids ${ids}, acknowledged but no longer in the inbox log (lost); indexing goes on from ${gap.to + 1}. Run it again to look for another gap`
          : `log-gap: webhook ids ${ids} were acknowledged but the inbox log no longer holds them (its files changed under the daemon); the daemon cannot index past them. --skip moves the index past them: they are lost (Meta does not resend an acknowledged webhook)`;
      // Read past by the daemon, not stopped at (nothing to skip), but lost all the same.
      const before_log = lost && `log-gap: webhook ids ${idList(lost)} are in neither the database nor the inbox log (the log starts after them: a database restored from an older backup, or segments deleted by hand); the daemon indexes on after them`;
      const answer = { indexed_through: skip && gap ? gap.to : through, gap, skipped: skip && gap !== null, indexed_before_gap: before, missing_before_log: lost };
      process.stdout.write((json ? JSON.stringify(answer) : [before_log, said].filter(Boolean).join("\n")) + "\n");
      return gap && !skip ? 1 : 0;
    } finally {
      db.close();
    }
  } finally {
    lock.release();
  }
}
