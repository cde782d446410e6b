/**
 * WAL checkpoints on their own thread. SQLite's automatic checkpoint runs inside
 * whichever commit crosses the threshold, stalling the request thread for the
 * whole copy-and-fsync; here a PASSIVE checkpoint runs beside the writers instead.
 * Under sustained load the WAL cannot reset by itself, so once it is fully
 * backfilled and still large, a brief RESTART checkpoint makes the next commit start
 * again at its beginning. RESTART rather than TRUNCATE: rewriting blocks the file
 * already has makes each commit's fsync cheaper (≈ 20% here) than growing the file;
 * journal_size_limit still caps its size. A RESTART never waits (busy_timeout 0): while
 * pending it keeps every writer out, so it is tried a few times instead (checkpointer.ts).
 */
import { Database } from "bun:sqlite";
import { statSync } from "node:fs";
import type { CheckpointerMessage, CheckpointerStart } from "./checkpointer";

declare const self: Worker;

let db: Database | null = null;
let timer: ReturnType<typeof setInterval> | null = null;
/** A tick still trying its RESTART: the next one waits its turn. */
let ticking = false;

const post = (message: CheckpointerMessage) => self.postMessage(message);

self.onmessage = (event: MessageEvent<CheckpointerStart | { type: "stop" }>) => {
  const msg = event.data;
  if (msg.type === "start") start(msg);
  else stop();
};

function start(opts: CheckpointerStart) {
  try {
    db = new Database(opts.path, { readwrite: true });
    db.run("PRAGMA busy_timeout = 0");
    db.run(`PRAGMA synchronous = ${opts.synchronous === "full" ? "FULL" : "NORMAL"}`);
    timer = setInterval(() => {
      if (ticking) return;
      ticking = true;
      void tick(opts).finally(() => (ticking = false));
    }, opts.intervalMs);
    post({ type: "started" });
  } catch (err) {
    post({ type: "error", message: (err as Error).message });
  }
}

/** The WAL's frames at the last tick. */
let lastSeenFrames = -1;

async function tick(opts: CheckpointerStart) {
  if (!db) return;
  try {
    const passive = db.query<{ busy: number; log: number; checkpointed: number }, []>("PRAGMA wal_checkpoint(PASSIVE)").get()!;
    let restarted = false;
    if (passive.log > 0 && passive.log === passive.checkpointed && walBytes(opts.path) > opts.restartBytes) {
      for (let attempt = 1; !restarted && attempt <= opts.restartAttempts; attempt++) {
        if (attempt > 1) await Bun.sleep(opts.restartRetryMs);
        if (!db) return; // stopped meanwhile
        restarted = db.query<{ busy: number }, []>("PRAGMA wal_checkpoint(RESTART)").get()!.busy === 0;
      }
    }
    // Said when the WAL changed since the last tick: an idle daemon's WAL keeps its last frames, and a line a second about them says nothing.
    if (passive.log > 0 && (passive.log !== lastSeenFrames || restarted)) post({ type: "checkpoint", frames: passive.log, checkpointed: passive.checkpointed, restarted });
    lastSeenFrames = restarted ? 0 : passive.log;
  } catch (err) {
    post({ type: "error", message: (err as Error).message });
  }
}

function walBytes(path: string): number {
  try {
    return statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
}

function stop() {
  if (timer) clearInterval(timer);
  try {
    db?.close();
  } catch (err) {
    post({ type: "error", message: (err as Error).message });
  }
  db = null;
  post({ type: "stopped" });
}
