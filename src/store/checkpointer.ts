/** Starts and stops the checkpoint thread (checkpointer.worker.ts) and logs what it reports. */
import { BACKGROUND_BUSY_TIMEOUT_MS, CHECKPOINT_INTERVAL_MS, WAL_RESTART_BYTES } from "../config/defaults";
import type { Logger } from "../util/log";
import { workerUrl } from "../util/worker-url";
import type { SynchronousMode } from "./db";

export interface CheckpointerStart {
  type: "start";
  path: string;
  synchronous: SynchronousMode;
  intervalMs: number;
  restartBytes: number;
  busyTimeoutMs: number;
}

export type CheckpointerMessage =
  | { type: "started" }
  | { type: "stopped" }
  | { type: "checkpoint"; frames: number; checkpointed: number; restarted: boolean }
  | { type: "error"; message: string };

export interface Checkpointer {
  stop(): Promise<void>;
}

// RESTART waits for the write lock; keep that wait well under the request path's lock_timeout.
const RESTART_BUSY_TIMEOUT_MS = Math.min(100, BACKGROUND_BUSY_TIMEOUT_MS);

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
    busyTimeoutMs: RESTART_BUSY_TIMEOUT_MS,
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
