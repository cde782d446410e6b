/**
 * The background work loops: process inbox jobs into events, and dispatch deliveries.
 * On SQLite they run inside the writer thread, on the writer's own connection: one
 * writer, so ingestion never waits on a lock held by the worker. (On PostgreSQL the same
 * loops run in the main thread of each instance: cli/serve-postgres.ts.) Each processing pass is bounded
 * in time; between passes the thread returns to its event loop, where pending inbox
 * appends are committed first. Dispatch has a loop of its own, woken by its attempts
 * finishing: were it paced by processing passes, a hook could get at most its
 * `concurrency` attempts per pass (a few hundred a second under load).
 */
import { sqliteDispatch } from "../store/dispatch-engine";
import { metrics } from "../metrics/catalogue";
import type { Database } from "bun:sqlite";
import { hostname } from "node:os";
import { parseDuration } from "../config/duration";
import type { Config } from "../config/schema";
import { Dispatcher } from "../forward/dispatcher";
import type { Clock } from "../util/clock";
import type { Logger } from "../util/log";
import { Processor, type ProcessStats } from "./processor";
import { sqliteProcessing } from "../store/processing-engine";
import { eventIds } from "../store/event-ids";
import { giveWayTo, pauseAfter, workerShare } from "./share";
import { buildSweeper, type Sweeper } from "../sweeper/start";
import type { TrafficMeter } from "./traffic";
import { isStorageFailure, toStorageError } from "../store/errors";
import { Wakeup } from "../util/wakeup";
import { statusLabel } from "../whatsapp/status-order";

const IDLE_POLL_MS = 20;
/** With no webhooks arriving, a pass never holds the writer thread (and so inbox commits) longer than this. */
const PASS_BUDGET_MS = 50;
/** While webhooks arrive: short passes, then a pause sized by the worker's share (worker/share.ts). */
const INGEST_PASS_BUDGET_MS = 10;
/** The backlog's age is looked up at most this often (one index probe). */
const BACKLOG_SAMPLE_MS = 250;
/** After a failed pass (disk full, I/O error): wait before the next, instead of spinning and logging. */
const ERROR_PAUSE_MS = 1_000;
/**
 * The write lock held a moment elsewhere (a RESTART checkpoint copying and fsyncing, a
 * backup starting) outlasts the connection's short busy_timeout without anything being
 * wrong: such a pass is tried again this soon, and only a lock held past
 * LOCK_PATIENCE_MS in a row is reported as a failure.
 */
const BUSY_RETRY_MS = 50;
const LOCK_PATIENCE_MS = 2_000;
/** On stop, how long deliveries and SMS requests in flight may finish; later ones are retried after restart. */
const STOP_GRACE_MS = 2_000;

export type WorkerSettings = Pick<Config, "worker" | "hooks" | "fallback" | "sweeper" | "alerts" | "storage">;

export interface WorkerLoop {
  /** The scheduled jobs, the alerter, and the fallback tracker (null when fallback is off). */
  sweeper: Sweeper;
  /** Webhooks were indexed: an idle processing loop looks now instead of at its next poll. */
  wake(): void;
  stop(): Promise<void>;
}

/**
 * The SQLite engine's loops, inside the writer thread. `ingesting()` tells whether
 * webhooks are arriving right now (the writer thread knows). `recover`: take back the
 * leases this host's previous run left (at start). Not on a reload: the leases then
 * belong to the loop being replaced, still finishing its work.
 */
export function startWorkerLoop(db: Database, settings: WorkerSettings, clock: Clock, log: Logger, ingesting: () => boolean, meter: TrafficMeter, recover = true): WorkerLoop {
  // One daemon per host and database: leases held under this name belong to a dead predecessor.
  const instance = hostname();
  const sweeper = buildSweeper(db, settings, clock, log, instance, giveWayTo(ingesting));
  const processor = new Processor(sqliteProcessing(db), eventIds(db), {
    tracker: sweeper.tracker,
    alerter: sweeper.alerter,
    ...processorOptions(settings, instance, clock, log),
  });
  const dispatcher = new Dispatcher(sqliteDispatch(db), { instance, hooks: settings.hooks, clock, log, meter, onGivenUp: sweeper.alerter.hookGivenUp });
  // Scheduled jobs and SMS sends are taken back here, before their loops start.
  const recovered = recover ? { scheduled_jobs: sweeper.jobs.recoverLeases(), sms: sweeper.tracker?.store.recoverSends(instance) ?? 0 } : null;
  const inbox = new Wakeup();
  const loops = runWorkerLoops({ processor, dispatcher, recovered, wakeups: { inbox, idleMs: IDLE_POLL_MS } }, settings.worker.batch_size, clock, log, ingesting, meter);
  sweeper.jobs.start();
  return {
    sweeper,
    wake: () => inbox.wake(),
    stop: async () => {
      // An SMS request out gets the grace deliveries get: recorded now, not sent again after the restart.
      await Promise.all([sweeper.jobs.stop(STOP_GRACE_MS), loops.stop()]);
    },
  };
}

/** What every engine's processor is built with, from the config. */
export function processorOptions(settings: Pick<Config, "worker" | "hooks">, instance: string, clock: Clock, log: Logger) {
  return {
    instance,
    hooks: settings.hooks,
    maxAttempts: settings.worker.max_attempts,
    batchSize: settings.worker.batch_size,
    leaseMs: parseDuration(settings.worker.lease)!,
    passBudgetMs: PASS_BUDGET_MS,
    clock,
    log,
  };
}

export interface LoopParts {
  processor: Processor;
  dispatcher: Dispatcher;
  /** Leases of the previous run taken back already (by name), or null: take back none (a reload). */
  recovered: Record<string, number> | null;
  /**
   * Woken when webhooks were stored (SQLite: indexed by this thread; PostgreSQL: LISTEN,
   * any instance): idle loops then wait for it, or `idleMs` at most, instead of polling
   * every IDLE_POLL_MS.
   */
  wakeups?: { inbox: Wakeup; idleMs: number };
  /**
   * How long a pass may run before it gives unreached jobs back. On SQLite it shares the
   * writer thread with inbox commits (PASS_BUDGET_MS); with nothing to share it with (the
   * PostgreSQL engine), a pass finishes what it claimed: giving jobs back only to claim
   * them again is twice the writes.
   */
  passBudgetMs?: number;
}

/**
 * The processing and dispatch loops, on any engine. Inbox jobs and deliveries of the
 * previous run are taken back before the first pass and the first turn (their engines
 * answer promises): never after a claim of this run, whose tokens start with the same
 * instance name. Failing that, the leases still end on their own (worker.lease, the
 * hooks' timeouts).
 */
export function runWorkerLoops({ processor, dispatcher, recovered, wakeups, passBudgetMs = PASS_BUDGET_MS }: LoopParts, batchSize: number, clock: Clock, log: Logger, ingesting: () => boolean, meter: TrafficMeter) {
  const recovering = (async () => {
    if (!recovered) return;
    const all = { jobs: await processor.recoverLeases(), deliveries: await dispatcher.recoverLeases(), ...recovered };
    if (Object.values(all).some((n) => n > 0)) log.info("took back leases of the previous run", all);
  })().catch((err) => log.error("could not take back the previous run's leases", { error: err }));

  let share = workerShare(0);
  let sampledAt = 0;
  const currentShare = async () => {
    const now = clock.now();
    if (now - sampledAt >= BACKLOG_SAMPLE_MS) {
      sampledAt = now;
      share = workerShare(await processor.backlogAgeMs(now));
    }
    return share;
  };

  let running = true;
  const processingLock = lockPatience(clock);
  const dispatchLock = lockPatience(clock);
  const processing = (async () => {
    await recovering;
    while (running) {
      let busy = false;
      let failed = false;
      let waitedOnLock = false;
      const yielding = ingesting();
      const started = performance.now();
      try {
        const stats = await processor.runOnce(batchSize, yielding ? INGEST_PASS_BUDGET_MS : passBudgetMs);
        meter.add("events", stats.events);
        meter.add("duplicates", stats.duplicates);
        meter.add("inbox_dead", stats.dead);
        count(stats);
        // Their deliveries are due now: the dispatcher's next turn need not wait for its poll.
        if (stats.events > 0) dispatcher.wake();
        // A claim may ask for fewer than batchSize (processor.ts #claimCap): any job claimed or given back, look again at once.
        busy = stats.jobs + stats.released > 0;
        processingLock.clear();
      } catch (err) {
        if (processingLock.bear(err)) waitedOnLock = true;
        else {
          failed = true;
          log.error("worker pass failed; pausing", { error: err, pause_ms: ERROR_PAUSE_MS });
        }
      }
      const worked = performance.now() - started;
      if (waitedOnLock) await Bun.sleep(BUSY_RETRY_MS);
      else if (failed) await Bun.sleep(ERROR_PAUSE_MS);
      else if (yielding) await Bun.sleep(pauseAfter(worked, await currentShare().catch(() => share)));
      else if (busy) await Bun.sleep(0);
      else await (wakeups ? wakeups.inbox.wait(wakeups.idleMs) : Bun.sleep(IDLE_POLL_MS));
    }
  })();
  const dispatching = (async () => {
    await recovering;
    while (running) {
      try {
        await dispatcher.tick();
        dispatchLock.clear();
      } catch (err) {
        if (dispatchLock.bear(err)) {
          await Bun.sleep(BUSY_RETRY_MS);
          continue;
        }
        log.error("dispatch pass failed; pausing", { error: err, pause_ms: ERROR_PAUSE_MS });
        await Bun.sleep(ERROR_PAUSE_MS);
        continue;
      }
      await dispatcher.nextTurn(wakeups?.idleMs ?? IDLE_POLL_MS);
    }
    await Promise.race([dispatcher.idle(), Bun.sleep(STOP_GRACE_MS)]);
    await dispatcher.flush();
  })();
  const done = Promise.all([processing, dispatching]);
  return {
    stop: async () => {
      running = false;
      wakeups?.inbox.wake();
      dispatcher.stop();
      await done;
    },
  };
}

/**
 * `bear(err)`: true while err is a busy lock and the lock has been busy for less than
 * LOCK_PATIENCE_MS in a row (the pass is simply tried again); false for anything else,
 * or once the lock has been held that long (then it is reported, and the streak starts over).
 */
function lockPatience(clock: Clock) {
  let since: number | null = null;
  return {
    clear: () => void (since = null),
    bear(err: unknown): boolean {
      if (!isStorageFailure(err) || toStorageError(err).kind !== "busy") return false;
      since ??= clock.now();
      if (clock.now() - since < LOCK_PATIENCE_MS) return true;
      since = null;
      return false;
    },
  };
}

/** A pass's committed work into this thread's metrics. */
function count(stats: ProcessStats) {
  for (const [type, n] of Object.entries(stats.types)) metrics.inc("wa_events_total", { type }, n);
  for (const [move, n] of Object.entries(stats.transitions)) {
    const [status, to] = move.split(">") as [string, string];
    // A status is whatever a signed payload says: one outside Meta's lattice is `other`, not a series of its own each.
    metrics.inc("wa_status_transitions_total", { status: statusLabel(status), to: statusLabel(to) }, n);
  }
  metrics.inc("wa_duplicates_total", {}, stats.duplicates);
  metrics.inc("wa_inbox_dead_total", {}, stats.dead);
}
