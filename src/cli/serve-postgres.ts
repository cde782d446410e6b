/**
 * The daemon on the PostgreSQL engine: one of several instances of the same binary
 * sharing one database. Start: connect, migrate (under an advisory lock, once for all
 * instances starting together), register under `server.instance` (a second live
 * instance with the same name is refused), then serve. Webhooks are group-committed
 * straight into PostgreSQL before the 200; processing and dispatch run in this process,
 * claiming work shared with the other instances by lease and token. SIGTERM: stop
 * accepting, commit what was received, finish the loops, free the name, exit 0.
 *
 * The scheduled jobs (`stale`, `fallback`, `alerts`, `retention`: sweeper/postgres-jobs.ts)
 * run once per schedule across the instances (sweeper/cluster-jobs.ts); SMS fallback and
 * alerts are sweeper/postgres-fallback.ts. Each instance records the hooks it runs (at
 * start and at each reload): the admin API calls a hook orphaned only when no live
 * instance runs it. The live stream (GET /v1/events/stream) shows on any instance the
 * events every instance stored, none skipped (store/postgres/event-stream.ts).
 * admin/postgres-ops.ts says which routes answer (the rest are 501).
 */
import { readFileSync } from "node:fs";
import type { SQL } from "bun";
import { hostname as osHostname } from "node:os";
import { randomBytes } from "node:crypto";
import { maskUrlCredentials } from "../config/load";
import { parseDuration } from "../config/duration";
import { parseListen, type Config } from "../config/schema";
import { DEV_CONFIG_ORIGIN, type ConfigSource } from "../config/source";
import type { AdminDeps } from "../http/admin";
import type { MetricsDeps } from "../http/metrics";
import { RequestTracker } from "../http/stop";
import { Inbox } from "../ingest/inbox";
import { Dispatcher } from "../forward/dispatcher";
import { buildGauges, queueGauges } from "../metrics/gauges";
import { emptySnapshot } from "../metrics/registry";
import { isStorageFailure, StorageError, toStorageError } from "../store/errors";
import { MigrationError } from "../store/migrate";
import { openPostgres, serverVersion } from "../store/postgres/connect";
import { postgresDispatch } from "../store/postgres/dispatch-engine";
import { postgresEventIds } from "../store/postgres/event-ids";
import { settleStreamOrder } from "../store/postgres/event-stream";
import { postgresInbox } from "../store/postgres/inbox-store";
import type { HealthStore, Readiness } from "../store/types";
import { INSTANCE_STALE_MS, instancesStore } from "../store/postgres/instances";
import { instanceHooksStore } from "../store/postgres/instance-hooks";
import { migratePostgres } from "../store/postgres/migrate";
import { postgresProcessing } from "../store/postgres/processing-engine";
import { postgresReport } from "../store/postgres/report-store";
import { orphanWarnings } from "../domain/orphans";
import { systemClock } from "../util/clock";
import { captureConsole, createLogger, type Logger } from "../util/log";
import { rateLimited } from "../util/log-budget";
import { answerWithin } from "../util/deadline";
import { redactionKey, redactorFor } from "../util/redact";
import { VERSION } from "../version";
import { processorOptions, runWorkerLoops } from "../worker/loop";
import { Processor } from "../worker/processor";
import { TrafficMeter } from "../worker/traffic";
import { Wakeup } from "../util/wakeup";
import { listenForWork } from "../store/postgres/wakeups";
import { scheduledRuns } from "../store/postgres/scheduled-runs";
import { ClusterJobs } from "../sweeper/cluster-jobs";
import { postgresAdminOps, postgresStreamResume } from "../admin/postgres-ops";
import { PostgresFallback } from "../sweeper/postgres-fallback";
import { postgresJobs } from "../sweeper/postgres-jobs";
import { refusePublicDevSecrets } from "../config/source";
import { addressFree, appFor, describe, reloader, runningFields, serveUntilStopped, StartupError, webhookDeps } from "./serve";

/**
 * Idle loops wait for a notification (store/postgres/wakeups.ts) and look anyway this
 * often: for retries that came due, expired leases of a dead instance, a missed notification.
 */
const IDLE_LOOK_MS = 1_000;
/** A pass finishes the batch it claimed (well inside worker.lease): nothing here shares a writer with ingestion. */
const PASS_BUDGET_MS = 5_000;
/** An instance renews its row this often; one not renewed for INSTANCE_STALE_MS is taken for dead. */
const HEARTBEAT_MS = 5_000;

export async function runServePostgres({ config, origin, warnings }: ConfigSource<Config>, reread: () => ConfigSource<Config>): Promise<void> {
  const startedAt = Date.now();
  const redactKey = redactionKey(config.log, config.admin.token);
  const log = createLogger(config.log.level, undefined, redactorFor(redactKey));
  captureConsole(log);
  if (redactKey === null) log.warn("log.redact = false: phone numbers appear in the logs in clear; they are personal data");
  if (origin === DEV_CONFIG_ORIGIN) log.warn("running on the embedded dev config: its secrets are public, do not expose this instance");
  for (const w of warnings) log.warn("config warning", { key: w.key, warning: w.reason });
  const { hostname, port } = parseListen(config.server.listen)!;
  refusePublicDevSecrets(config);
  addressFree(config, { hostname, port });
  const clock = systemClock;
  // Port 0 (any free port) names no one instance: the process id does, for this run.
  const instance = config.server.instance ?? `${osHostname()}:${port === 0 ? `pid${process.pid}` : port}`;
  const lockTimeoutMs = parseDuration(config.storage.lock_timeout)!;
  const url = config.storage.url!;
  const sql = openPostgres({ url, pool: config.storage.pool, lockTimeoutMs, instance, idleInTransactionMs: parseDuration(config.worker.lease)! });
  const { migration, serverVersion } = await prepare(sql, url);
  const restored = await settleStreamOrder(sql);
  if (restored > 0) log.warn("events carry transaction ids ahead of this PostgreSQL cluster (a dump restored into another cluster): put back in the stream's order by id", { events: restored });
  let stop: (why: string, code: number) => void = () => {};
  const presence = await register(sql, instance, log, () => stop("name taken over", 1));

  const meter = new TrafficMeter();
  const pg = postgresInbox(sql, instance);
  const counted = {
    appendBatch: async (records: Parameters<typeof pg.appendBatch>[0]) => {
      const ids = await pg.appendBatch(records);
      meter.add("stored", ids.length);
      return ids;
    },
  };
  // A commit unanswered past the server's own lock_timeout error (and a margin) is the network, not a lock.
  const stallAfterMs = lockTimeoutMs + STALL_MARGIN_MS;
  const inbox = new Inbox(counted, { lockTimeoutMs, clock, log, stallAfterMs });
  const health = answeredHealth(pg, inbox, stallAfterMs);
  const report = postgresReport(sql);
  const backlog = postgresProcessing(sql);
  const inboxWakeup = new Wakeup();
  let worker = config.worker.enabled ? await startWorker(sql, config, instance, log, meter, inboxWakeup, true) : null;
  const listening = await listenForWork(sql, { inbox: () => inboxWakeup.wake(), deliveries: () => worker?.dispatcher.wake() }).catch((err) => {
    log.warn("cannot LISTEN for other instances' work: idle loops look every second instead", { error: isStorageFailure(err) ? toStorageError(err).message : err, look_ms: IDLE_LOOK_MS });
    return { close: async () => {} };
  });
  const traffic = setInterval(async () => meter.report(log, await worker?.processor.backlogAgeMs(Date.now()).catch(() => 0) ?? 0), parseDuration(config.log.traffic_interval)!);

  const requests = new RequestTracker();
  /** The config in force (a reload replaces it): the admin and metrics answers read its hooks. */
  const running = { config };
  const hookRecords = instanceHooksStore(sql);
  await recordHooks(hookRecords, instance, config);
  await sayOrphans(report, hookRecords, log);
  const admin: AdminDeps = {
    token: config.admin.token,
    run: answeredAdmin(postgresAdminOps(sql, () => worker?.jobs ?? null, () => running.config.hooks, () => hookRecords.live(INSTANCE_STALE_MS), () => worker?.fallback ?? null), stallAfterMs, log),
    log,
    streamResumeAt: postgresStreamResume(sql),
  };
  const metrics: MetricsDeps = {
    token: config.admin.metrics_token ?? null,
    writer: async () => {
      try {
        const now = Date.now();
        const [inbox, lagMs, open, tracked, overdue, sms] = await Promise.all([report.inbox(), backlog.backlogAgeMs(now), report.openDeliveries(), report.tracked(), report.overdue(now), report.sms()]);
        return { snapshot: emptySnapshot(), gauges: queueGauges({ inbox, lagMs, open, tracked, overdue, sms }, running.config.hooks.map((h) => h.name)) };
      } catch (err) {
        throw isStorageFailure(err) ? toStorageError(err) : err;
      }
    },
    local: () => buildGauges(VERSION, startedAt),
    log,
  };
  const webhook = webhookDeps(config, requests, inbox, clock, log);
  const app = appFor(config, hostname, { log, health, admin, metrics, webhook });
  const reload = reloader(config, hostname, reread, log, { webhook, admin, metrics }, {
    where: "restarting the worker",
    // The pool's sessions end transactions idle past the lease they were opened with (connect.ts).
    restartOnly: ["lease"],
    // Deliveries in flight finish under the old hooks; the loops start again with the new ones.
    apply: async (next) => {
      // First: a database that cannot take it fails the reload before anything changed.
      await recordHooks(hookRecords, instance, next);
      await sayOrphans(report, hookRecords, log);
      await worker?.stop();
      worker = next.worker.enabled ? await startWorker(sql, next, instance, log, meter, inboxWakeup, false) : null;
    },
  }, running);
  stop = serveUntilStopped(app, config, { hostname, port }, requests, inbox, reload, log, async () => {
    clearInterval(traffic);
    await worker?.stop();
    await listening.close().catch(() => {});
    await presence.leave();
    await sql.close();
  });
  log.info("listening", {
    version: VERSION,
    config: origin,
    engine: "postgres",
    instance,
    listen: `${hostname.includes(":") ? `[${hostname}]` : hostname}:${app.server!.port}`,
    webhook_path: config.server.webhook_path,
    database: maskUrlCredentials(url),
    server_version: serverVersion,
    pool: config.storage.pool,
    schema_version: migration.to,
    migrations_applied: migration.applied,
    app_secrets: config.whatsapp.app_secrets.length,
    ...runningFields(config, hostname),
  });
}

/** Connects and migrates; every failure names storage.url (its password masked). */
async function prepare(sql: SQL, url: string) {
  const where = maskUrlCredentials(url);
  try {
    return { serverVersion: await serverVersion(sql), migration: await migratePostgres(sql) };
  } catch (err) {
    await sql.close().catch(() => {});
    if (err instanceof MigrationError) throw new StartupError("storage.url", err.message);
    throw new StartupError("storage.url", `cannot use the PostgreSQL database at ${where}: ${describe(isStorageFailure(err) ? toStorageError(err) : err)}`);
  }
}

/**
 * Registers this run under its name, then keeps the registration alive; `leave()` frees
 * the name. A run found taken for dead (its name registered anew by another run) stops
 * (`takenOver`): two runs under one name would take back each other's leases.
 */
async function register(sql: SQL, name: string, log: Logger, takenOver: () => void) {
  const store = instancesStore(sql);
  const run = { name, token: randomBytes(9).toString("base64url"), host: osHostname(), pid: process.pid, version: VERSION };
  const holder = await store.register(run, INSTANCE_STALE_MS, (row) => row.host === run.host && !isRunning(row.pid));
  if (holder) {
    await sql.close().catch(() => {});
    throw new StartupError(
      "server.instance",
      `another live instance runs as "${name}" (host ${holder.host}, pid ${holder.pid}, started ${new Date(holder.started_at).toISOString()}): give each instance its own server.instance`,
    );
  }
  let lost = false;
  const heartbeat = setInterval(async () => {
    try {
      if (!(await store.renew(name, run.token)) && !lost) {
        lost = true;
        log.error("this instance's name was taken over by another run: this one was taken for dead (paused or cut off from the database too long); stopping", { instance: name, stale_ms: INSTANCE_STALE_MS });
        takenOver();
      }
    } catch {
      // The database is unreachable: readiness says so; the row is renewed once it is back.
    }
  }, HEARTBEAT_MS);
  return {
    leave: async () => {
      clearInterval(heartbeat);
      await store.leave(name, run.token).catch(() => {});
    },
  };
}

/** The hooks this instance runs, where the other instances' admin APIs see them (a hook no live instance runs is orphaned). */
async function recordHooks(store: ReturnType<typeof instanceHooksStore>, instance: string, config: Config) {
  try {
    await store.record(instance, config.hooks, Date.now());
  } catch (err) {
    throw isStorageFailure(err) ? toStorageError(err) : err;
  }
}

/** Said at start and at each reload, as on SQLite: open deliveries of hooks no live instance runs. Never fatal. */
async function sayOrphans(report: ReturnType<typeof postgresReport>, store: ReturnType<typeof instanceHooksStore>, log: Logger) {
  try {
    const [open, live] = await Promise.all([report.openDeliveries(), store.live(INSTANCE_STALE_MS)]);
    for (const { msg, fields } of orphanWarnings(open, live)) log.warn(msg, fields);
  } catch (err) {
    log.warn("could not count the deliveries of hooks no instance runs", { error: isStorageFailure(err) ? toStorageError(err).message : err });
  }
}

/** Whether a process of this host still runs (a previous run of this instance that died does not). */
function isRunning(pid: number): boolean {
  if (pid === process.pid) return false; // a container restarted under the same pid: not us, we have no row yet
  // Killed but not yet reaped by its parent (a zombie): signal 0 still reaches it, yet it runs nothing.
  if (processState(pid) === "Z") return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The state letter of /proc/<pid>/stat (R, S, Z…); null where there is none (not Linux, no such process). */
function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) || null;
  } catch {
    return null;
  }
}

/** Processing and dispatch on the shared queue, and the scheduled jobs; `recover` takes back this instance's previous run's leases. */
async function startWorker(sql: SQL, config: Config, instance: string, log: Logger, meter: TrafficMeter, inbox: Wakeup, recover: boolean) {
  const clock = systemClock;
  // One id source for the instance: the events it processes and those it raises keep growing together.
  const eventId = await postgresEventIds(sql);
  const fallback = new PostgresFallback(sql, config, eventId, clock, log, instance);
  const jobs = new ClusterJobs(postgresJobs(sql, config, clock, fallback), scheduledRuns(sql), instance, clock, log);
  const processor = new Processor(postgresProcessing(sql, fallback.followUp), eventId, { ...processorOptions(config, instance, clock, log), tracker: fallback.tracker, alerter: fallback.alerter });
  const dispatcher = new Dispatcher(postgresDispatch(sql), { instance, hooks: config.hooks, clock, log, meter, onGivenUp: fallback.hookGivenUp });
  // Each instance commits its own webhooks: processing never waits on ingestion's writer here.
  const loops = runWorkerLoops(
    {
      processor,
      dispatcher,
      recovered: recover ? { sms: await fallback.recover(instance) } : null,
      wakeups: { inbox, idleMs: IDLE_LOOK_MS },
      passBudgetMs: Math.min(PASS_BUDGET_MS, parseDuration(config.worker.lease)! / 2),
    },
    config.worker.batch_size,
    clock,
    log,
    () => false,
    meter,
  );
  jobs.start();
  fallback.start();
  return {
    processor,
    dispatcher,
    fallback: config.fallback.enabled ? fallback : null,
    jobs,
    stop: async () => {
      await jobs.stop();
      await loops.stop();
    },
  };
}

/**
 * Admin answers that come even when PostgreSQL does not (packets dropped): a 503 after
 * the stall bound, where the request was left to Bun's idle timeout and its connection
 * dropped with no answer and no log line. An erasure is exempt: it may rightly take
 * minutes (its route lifts the idle timeout), and a 503 while it goes on would be false.
 */
function answeredAdmin(run: AdminDeps["run"], withinMs: number, log: Logger): AdminDeps["run"] {
  return async (op) => {
    if (op.op === "erase-contact") return run(op);
    return answerWithin(withinMs, run(op), () => {
      const reason = `postgres not answering: no answer within ${withinMs} ms`;
      rateLimited(log).warn(reason, "admin request unanswered", { op: op.op, reason });
      throw new StorageError("gone", reason);
    });
  };
}

/** How much longer than storage.lock_timeout a commit may go unanswered before it is a stall. */
const STALL_MARGIN_MS = 2_000;

/**
 * Readiness that answers even when PostgreSQL does not (packets dropped: no error, only
 * silence): not ready while the inbox's commit stalls, or when the probe itself gets no
 * answer in time. A load balancer then sees what Meta sees, 503s.
 */
function answeredHealth(pg: HealthStore, inbox: Inbox, withinMs: number): HealthStore {
  return {
    async probe() {
      const stalled = inbox.stalled();
      if (stalled) return { ready: false, reason: `postgres not answering: ${stalled}` };
      return answerWithin<Readiness>(withinMs, pg.probe(), () => ({ ready: false, reason: `postgres not answering: the readiness probe got no answer within ${withinMs} ms` }));
    },
  };
}
