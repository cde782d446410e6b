/**
 * The writer thread: owns the one connection that writes. It commits inbox batches
 * (so the request thread keeps accepting webhooks while a commit waits on fsync)
 * and, between them, runs the worker loop (processing and dispatch), so the two
 * never contend for SQLite's write lock.
 */
import type { Database } from "bun:sqlite";
import { adminOps, type AdminAnswer } from "../admin/ops";
import { foldWal, openDatabase, setBusyTimeout } from "../store/db";
import { BACKGROUND_BUSY_TIMEOUT_MS, WRITER_CACHE_KIB } from "../config/defaults";
import { fileIdentity, type IdentityCheck } from "../store/file-identity";
import { isStorageFailure, toStorageError } from "../store/errors";
import { sqliteProbe } from "../store/health-store";
import { queueStore } from "../store/queue-store";
import { sqliteInbox, type SqliteInbox } from "../store/inbox-store";
import type { Readiness } from "../store/types";
import type { WriterReply, WriterRequest, WriterSettings } from "./protocol";
import type { Framed } from "../store/log-frame";
import { LogEnd } from "../store/log-end";
import { LogReader } from "../store/log-reader";
import { segmentsDir } from "../store/segment-log";
import { systemClock } from "../util/clock";
import { createLogger, type Logger } from "../util/log";
import { redactorFor } from "../util/redact";
import { startWorkerLoop, type WorkerLoop, type WorkerSettings } from "../worker/loop";
import type { HookRoute } from "../config/schema";
import { TrafficMeter } from "../worker/traffic";
import { metrics } from "../metrics/catalogue";
import { storeGauges } from "../metrics/gauges";
import { daemonHooksStore } from "../store/daemon-hooks-store";
import { trimHeap } from "../util/heap-trim";
import { orphanWarnings } from "../domain/orphans";
import { orphanedCounts } from "../store/requeue-store";

declare const self: Worker;

let db: Database | null = null;
let inbox: SqliteInbox | null = null;
let probe: (() => Readiness) | null = null;
let checkFile: IdentityCheck | null = null;
/** Once the file is found gone, said once in the log; every later write still fails. */
let goneLogged = false;
let loop: WorkerLoop | null = null;
/** The admin API's operations, made on first use (after the worker loop exists). */
let admin: ReturnType<typeof adminOps> | null = null;
let hooks: readonly HookRoute[] = [];
let lastAppendAt = 0;
/** Everything this thread stores, processes and delivers is counted here for the "traffic" line. */
const meter = new TrafficMeter();
trimHeap();
let log: Logger | null = null;
let trafficTimer: ReturnType<typeof setInterval> | null = null;
let report: (() => void) | null = null;
/** Webhooks are "arriving" if an inbox batch was committed within this window. */
const INGESTING_WINDOW_MS = 50;
/** Indexing met a lock held elsewhere: try again soon. Any other failure: after a pause, not in a tight loop. */
const INDEX_BUSY_RETRY_MS = 10;
const INDEX_RETRY_MS = 1_000;

const reply = (message: WriterReply) => self.postMessage(message);

const fail = (seq: number, err: unknown) => {
  const e = toStorageError(err);
  reply({ type: "failed", seq, kind: e.kind, code: e.code, message: e.message });
};

/** A bug, not storage trouble: logged here, where its stack is, and answered 500 (http/admin.ts). */
const bug = (seq: number, op: string, err: unknown) => {
  // Only the frames: the message may hold what the call was about, and the logger redacts only `error`.
  const stack = err instanceof Error ? err.stack?.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("at ")).slice(0, 5) : undefined;
  log?.error("admin call failed: a bug, not storage trouble", { op, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err), stack });
  reply({ type: "bug", seq, message: err instanceof Error ? err.message : String(err) });
};

self.onmessage = (event: MessageEvent<WriterRequest>) => {
  const msg = event.data;
  switch (msg.type) {
    case "open":
      try {
        // The request thread has already migrated the schema; this only connects. Until the
        // leases of a crashed run are taken back, a lock held elsewhere is waited on as long
        // as a background job would; then the short wait of the request path.
        db = openDatabase(msg.path, { synchronous: msg.synchronous, busyTimeoutMs: BACKGROUND_BUSY_TIMEOUT_MS, autoCheckpoint: false, cacheKiB: WRITER_CACHE_KIB });
        inbox = sqliteInbox(db);
        // What was acknowledged but not indexed when the last run stopped (or this thread's
        // predecessor died), then whatever the request thread logs from now on.
        logEnd = new LogEnd(msg.logEnd);
        reader = new LogReader(segmentsDir(msg.path), inbox.indexedThrough());
        const replayed = indexFromLog();
        hooks = msg.hooks;
        probe = sqliteProbe(db, Date.now);
        checkFile = fileIdentity(msg.path);
        const threadLog = createLogger(msg.logLevel, undefined, redactorFor(msg.redactKey));
        log = threadLog;
        if (msg.worker) loop = startLoop(msg.worker, true);
        recordHooks();
        setBusyTimeout(db, msg.busyTimeoutMs);
        const queue = queueStore(db);
        report = () => meter.report(threadLog, queue.backlogAgeMs(Date.now()));
        trafficTimer = setInterval(report, msg.trafficIntervalMs);
        if (replayed > 0) threadLog.info("indexed webhooks from the inbox log", { webhooks: replayed });
        sayMissingBeforeLog();
        void follow();
        reply({ type: "opened", seq: 0 });
      } catch (err) {
        fail(0, err);
      }
      return;
    case "indexed":
      try {
        // Only what went into the file a restart opens counts: else the log must keep it.
        verifyFile();
        reply({ type: "indexed", seq: msg.seq, through: inbox!.durableThrough() });
      } catch (err) {
        fail(msg.seq, err);
      }
      return;
    case "probe":
      try {
        verifyFile();
        // Acknowledged webhooks that cannot be read or indexed (a damaged log or file) stop
        // the index until someone looks: not ready. A full disk, a lock held elsewhere, an
        // I/O error: the probe's own write meets them and says so, and clears as they do.
        const stuck = indexFailure === "corrupt";
        reply({ type: "probed", seq: msg.seq, readiness: stuck ? { ready: false, reason: `acknowledged webhooks are not being indexed (${indexFailure})` } : probe!() });
      } catch (err) {
        fail(msg.seq, err);
      }
      return;
    case "admin":
      admin ??= adminOps(db!, loop?.sweeper ?? null, hooks);
      // A throw while the operation starts must answer this call, not take the thread down.
      new Promise<AdminAnswer>((resolve) => resolve(admin!(msg.op, Date.now()))).then(
        (answer) => reply({ type: "admin", seq: msg.seq, answer }),
        (err) => (isStorageFailure(err) ? fail(msg.seq, err) : bug(msg.seq, msg.op.op, err)),
      );
      return;
    case "metrics":
      try {
        reply({ type: "metrics", seq: msg.seq, snapshot: metrics.snapshot(), gauges: storeGauges(db!, hooks.map((h) => h.name), Date.now()) });
      } catch (err) {
        if (isStorageFailure(err)) fail(msg.seq, err);
        else bug(msg.seq, "metrics", err);
      }
      return;
    case "reload":
      void reload(msg);
      return;
    case "close":
      void close(msg.seq);
  }
};

const startLoop = (settings: WorkerSettings, recover: boolean) =>
  startWorkerLoop(db!, settings, systemClock, log!, () => Date.now() - lastAppendAt < INGESTING_WINDOW_MS, meter, recover);

/**
 * A reloaded config: the worker loop stops (deliveries in flight finish under the old
 * settings, within the loop's stop grace) and starts again with the new hooks, sweeper,
 * fallback and alert settings. Webhooks keep being committed meanwhile.
 */
async function reload(msg: WriterSettings & { seq: number }) {
  try {
    await loop?.stop();
    loop = null;
    log!.configure(msg.logLevel, redactorFor(msg.redactKey));
    if (trafficTimer) clearInterval(trafficTimer);
    trafficTimer = setInterval(report!, msg.trafficIntervalMs);
    hooks = msg.hooks;
    admin = null;
    if (msg.worker) loop = startLoop(msg.worker, false);
    recordHooks();
    reply({ type: "reloaded", seq: msg.seq });
  } catch (err) {
    fail(msg.seq, err);
  }
}

/**
 * The hooks now run, recorded for operator commands in other processes; a hook no
 * longer run that still has open deliveries is said in the log, with their count. A
 * failure to record is logged, never fatal: the daemon runs as configured either way.
 */
function recordHooks() {
  const running = hooks.map((h) => h.name);
  try {
    daemonHooksStore(db!).record(hooks, Date.now());
    for (const { msg, fields } of orphanWarnings(orphanedCounts(db!, running), running)) log!.warn(msg, fields);
  } catch (err) {
    log!.error("could not record the hooks the daemon runs; operator commands see the previous ones", { error: err, hooks: running });
  }
}

let logEnd: LogEnd | null = null;
let reader: LogReader | null = null;
/** Read from the log, not yet indexed (a failed index transaction keeps them for the next try). */
let toIndex: Framed[] = [];
/** One failure said per kind, until indexing works again: the log holds the webhooks meanwhile. */
let indexFailure: string | null = null;
let closing = false;
/** Frames per index transaction: a burst is indexed in bounded steps, so processing and admin calls get turns. */
const INDEX_BATCH = 2_000;

/**
 * Indexes what the log holds as the request thread says it grows: one wake-up however
 * many batches it logged meanwhile, one step per turn of the thread's loop (processing,
 * dispatch and admin calls take theirs between). After a failure, waits before the next try.
 */
async function follow() {
  while (!closing) {
    const seen = logEnd!.id;
    const step = indexStep();
    // Webhooks logged meanwhile wait for the next turn: the loop never keeps the thread to itself.
    if (step === "more" || (step === "done" && logEnd!.id !== seen)) await nextTurn();
    else if (step === "done") {
      reader!.release(); // idle: no descriptor on a segment the log may delete meanwhile
      await logEnd!.movedFrom(seen);
    }
    else await Bun.sleep(step === "busy" ? INDEX_BUSY_RETRY_MS : INDEX_RETRY_MS);
  }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Indexes up to INDEX_BATCH of the webhooks the log holds durably: "done" when none are left to read, "more", or the kind of failure. */
function indexStep(): "done" | "more" | string {
  try {
    if (toIndex.length === 0) toIndex = reader!.read(logEnd!.id, INDEX_BATCH);
    if (toIndex.length === 0) return "done";
    verifyFile();
    inbox!.index(toIndex);
  } catch (err) {
    const e = toStorageError(err);
    if (indexFailure !== e.kind) log?.error("indexing webhooks failed; the inbox log keeps them, retrying", { kind: e.kind, error: e.message, waiting: toIndex.length });
    indexFailure = e.kind;
    return e.kind;
  }
  sayMissingBeforeLog();
  if (indexFailure) log?.info("indexing webhooks again", {});
  indexFailure = null;
  lastAppendAt = Date.now();
  meter.add("stored", toIndex.length);
  toIndex = [];
  loop?.wake();
  // Read again (next turn): more may be logged by now, or left unread by a step that
  // retried frames read before a failure.
  return "more";
}

/** At the start: indexes what the log holds past the index, whole (throws); how many webhooks. */
function indexFromLog(): number {
  let n = 0;
  for (let frames = reader!.read(logEnd!.id, INDEX_BATCH); frames.length > 0; frames = reader!.read(logEnd!.id, INDEX_BATCH)) {
    inbox!.index(frames);
    n += frames.length;
  }
  return n;
}

/**
 * Ids the reader went past because the log starts after them: acknowledged once, and now
 * in neither the database nor the log. Nothing can bring them back; an operator must know.
 */
function sayMissingBeforeLog() {
  const skipped = reader?.takeSkipped();
  if (!skipped || !log) return;
  log.warn("acknowledged webhooks are in neither the database nor the inbox log: indexing goes on after them", {
    from_id: skipped.from,
    to_id: skipped.to,
    webhooks: skipped.to - skipped.from + 1,
    hint: "a database restored from a backup older than the log's first segment, or segment files deleted by hand; `wa-webhookd log-gap` names them too",
  });
}

function verifyFile() {
  try {
    checkFile!();
  } catch (err) {
    if (!goneLogged) log?.error("database file is gone: answering 503 until restarted", { error: (err as Error).message });
    goneLogged = true;
    throw err;
  }
}

async function close(seq: number) {
  try {
    // What was logged is indexed before the connection goes; what cannot be stays in the log.
    closing = true;
    while (indexStep() === "more");
    reader?.close();
    await loop?.stop();
    loop = null;
    if (trafficTimer) clearInterval(trafficTimer);
    report?.();
    if (db) {
      // After a clean stop the database file alone holds everything (a plain copy is a full backup).
      foldWal(db);
      db.close();
    }
    db = null;
    reply({ type: "closed", seq });
  } catch (err) {
    fail(seq, err);
  }
}
