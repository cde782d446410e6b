/** Starts and stops the checkpoint thread (checkpointer.worker.ts) and logs what it reports. */
import { CHECKPOINT_INTERVAL_MS, WAL_RESTART_BYTES } from "../config/defaults";
import type { Logger } from "../util/log";
import { workerUrl } from "../util/worker-url";
import type { SynchronousMode } from "./db";

export interface CheckpointerStart {
  type: "start";
  path: string;
  synchronous: SynchronousMode;
  intervalMs: number;
  restartBytes: number;
  /** RESTART never waits (busy_timeout 0): it is tried up to this many times, this far apart. */
  restartAttempts: number;
  restartRetryMs: number;
}

export type CheckpointerMessage =
  | { type: "started" }
  | { type: "stopped" }
  | { type: "checkpoint"; frames: number; checkpointed: number; restarted: boolean }
  | { type: "error"; message: string };

export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * A pending RESTART holds the write lock while it waits, for the writer and for every
 * reader still on the WAL, another process's included (a backup, `sqlite3 .dump`): with
 * a busy timeout it kept the writer thread out past its own 50 ms, and a worker pass
 * failed with "database is locked". So it never waits; tried 20 times 5 ms apart, it
 * finds a gap between the writer's transactions as often as the 100 ms wait did (a burst
 * at ~1,300 POSTs/s: 28 of 31 ticks restarted, WAL at most 28-51 MiB).
 */
const RESTART_ATTEMPTS = 20;
const RESTART_RETRY_MS = 5;

export function startCheckpointer(path: string, synchronous: SynchronousMode, log: Logger): Checkpointer {
  const worker = new Worker(workerUrl("store/checkpointer.worker.ts"));
  let onStopped: (() => void) | null = null;
  worker.onmessage = (event: MessageEvent<CheckpointerMessage>) => {
    const msg = event.data;
    if (msg.type === "error") log.error("wal checkpoint failed", { error: msg.message });
    else if (msg.type === "checkpoint") log.debug("wal checkpoint", msg);
    else if (msg.type === "stopped") onStopped?.();
  };
  worker.onerror = (event) => log.error("checkpoint thread crashed", { error: event.message });
  const start: CheckpointerStart = {
    type: "start",
    path,
    synchronous,
    intervalMs: CHECKPOINT_INTERVAL_MS,
    restartBytes: WAL_RESTART_BYTES,
    restartAttempts: RESTART_ATTEMPTS,
    restartRetryMs: RESTART_RETRY_MS,
  };
  worker.postMessage(start);
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        onStopped = () => {
          worker.terminate();
          resolve();
        };
        worker.postMessage({ type: "stop" });
      }),
  };
}
