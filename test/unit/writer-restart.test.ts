/**
 * The worker loop and the scheduled jobs live in the writer thread. If that thread
 * ever dies, a new one must start by itself: waiting for the next webhook would leave
 * everything already acknowledged unprocessed for as long as the traffic is quiet.
 */
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { AlertsSchema, FallbackSchema, StorageSchema, SweeperSchema, WorkerSchema } from "../../src/config/schema";
import { openDatabase } from "../../src/store/db";
import { storeWebhooks } from "../support/inbox";
import { migrate } from "../../src/store/migrate";
import { WriterThread } from "../../src/writer/client";
import { createLogger } from "../../src/util/log";
import { tempDir, waitFor } from "../support/daemon";
import { fixture } from "../support/pipeline";

// Every thread started, so the test can make one fail the way an uncaught exception would.
const RealWorker = globalThis.Worker;
const started: Worker[] = [];
globalThis.Worker = class extends RealWorker {
  constructor(...args: ConstructorParameters<typeof Worker>) {
    super(...args);
    started.push(this);
  }
};
afterEach(() => {
  globalThis.Worker = RealWorker;
});

test("a crashed writer thread is replaced without waiting for a write, and its worker loop resumes", async () => {
  const path = join(tempDir(), "wa.db");
  const db = openDatabase(path, { synchronous: "full", busyTimeoutMs: 1000, autoCheckpoint: true });
  migrate(db);
  const lines: string[] = [];
  const log = createLogger("info", (line) => lines.push(line));
  const worker = { worker: WorkerSchema.parse({}), hooks: [], fallback: FallbackSchema.parse({}), sweeper: SweeperSchema.parse({}), alerts: AlertsSchema.parse({}), storage: StorageSchema.parse({ path }) };
  const writer = await WriterThread.start({ path, synchronous: "full", busyTimeoutMs: 50, logLevel: "error", redactKey: null, trafficIntervalMs: 60_000, hooks: [], worker, logEnd: 0 }, log);
  try {
    expect(started).toHaveLength(1);
    started[0]!.postMessage(null); // the thread's message handler throws: nothing catches it
    await waitFor(() => lines.some((l) => l.includes("writer thread crashed")));

    // A webhook stored by someone else meanwhile: only a running worker loop turns it into an event.
    const body = new TextEncoder().encode(JSON.stringify(fixture("message_text").payload));
    storeWebhooks(db, [{ body, signature: "sha256=x", userAgent: null, remoteAddr: null, forwardedFor: null, receivedAt: Date.now() }]);
    await waitFor(() => db.query<{ state: string }, []>("SELECT state FROM inbox").get()?.state === "done", 10_000);
    expect(started).toHaveLength(2);
    await waitFor(() => lines.some((l) => l.includes("writer thread started again")));
    expect(db.query("SELECT type FROM events").all()).toEqual([{ type: "message.received" }]);
  } finally {
    await writer.close();
    db.close();
  }
});
