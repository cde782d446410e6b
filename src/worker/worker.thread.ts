/**
 * The worker thread: processes inbox jobs into events and dispatches deliveries,
 * on its own SQLite connection, so ingestion on the request thread is untouched.
 * Polls briefly when idle; loops at once while there is work.
 */
import type { Database } from "bun:sqlite";
import { hostname } from "node:os";
import { BACKGROUND_BUSY_TIMEOUT_MS } from "../config/defaults";
import { parseDuration } from "../config/duration";
import type { Config } from "../config/schema";
import { Dispatcher } from "../forward/dispatcher";
import { openDatabase } from "../store/db";
import { systemClock } from "../util/clock";
import { createLogger } from "../util/log";
import { Processor } from "./processor";

declare const self: Worker;

const IDLE_POLL_MS = 20;
const STOP_GRACE_MS = 2_000;

export type WorkerThreadMessage = { type: "start"; config: Config } | { type: "stop" };

let db: Database | null = null;
let running = false;

self.onmessage = (event: MessageEvent<WorkerThreadMessage>) => {
  if (event.data.type === "start") void start(event.data.config);
  else void stop();
};

async function start(config: Config) {
  const log = createLogger(config.log.level);
  db = openDatabase(config.storage.path, { synchronous: config.storage.synchronous, busyTimeoutMs: BACKGROUND_BUSY_TIMEOUT_MS, autoCheckpoint: false });
  const clock = systemClock;
  // One daemon per host and database: leases held under this name belong to a dead predecessor.
  const instance = hostname();
  const processor = new Processor(db, {
    instance,
    hooks: config.hooks,
    maxAttempts: config.worker.max_attempts,
    batchSize: config.worker.batch_size,
    leaseMs: parseDuration(config.worker.lease)!,
    clock,
    log,
  });
  const dispatcher = new Dispatcher(db, { instance, hooks: config.hooks, clock, log });
  const recovered = { jobs: processor.recoverLeases(), deliveries: dispatcher.recoverLeases() };
  if (recovered.jobs + recovered.deliveries > 0) log.info("took back leases of the previous run", recovered);
  running = true;
  self.postMessage({ type: "started" });
  while (running) {
    let busy = false;
    try {
      const stats = processor.runOnce();
      busy = stats.jobs === config.worker.batch_size;
      busy = dispatcher.tick() > 0 || busy;
    } catch (err) {
      log.error("worker pass failed", { error: err });
    }
    // Yield to the event loop either way, so in-flight deliveries can finish.
    await Bun.sleep(busy ? 0 : IDLE_POLL_MS);
  }
  // Deliveries still in flight after this are retried once their lease expires.
  await Promise.race([dispatcher.idle(), Bun.sleep(STOP_GRACE_MS)]);
  dispatcher.flush();
  db.close();
  self.postMessage({ type: "stopped" });
}

async function stop() {
  if (!running) self.postMessage({ type: "stopped" });
  running = false;
}
