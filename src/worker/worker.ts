/** Starts and stops the worker thread (worker.thread.ts) from the daemon's main thread. */
import type { Config } from "../config/schema";
import type { Logger } from "../util/log";
import { workerUrl } from "../util/worker-url";
import type { WorkerThreadMessage } from "./worker.thread";

export interface WorkerHandle {
  stop(): Promise<void>;
}

export function startWorker(config: Config, log: Logger): Promise<WorkerHandle> {
  const worker = new Worker(workerUrl("worker/worker.thread.ts"));
  let onStopped: () => void = () => {};
  worker.onerror = (event) => log.error("worker thread crashed", { error: event.message });
  return new Promise((resolve) => {
    worker.onmessage = (event: MessageEvent<{ type: string }>) => {
      if (event.data.type === "started") resolve({ stop });
      if (event.data.type === "stopped") onStopped();
    };
    worker.postMessage({ type: "start", config } satisfies WorkerThreadMessage);
  });

  function stop(): Promise<void> {
    return new Promise((resolve) => {
      onStopped = () => {
        worker.terminate();
        resolve();
      };
      worker.postMessage({ type: "stop" } satisfies WorkerThreadMessage);
    });
  }
}
