/**
 * The daemon's lifecycle: migrate the database, start the writer thread (inbox
 * commits and, unless disabled, the worker loop) and the checkpoint thread, serve
 * HTTP; on SIGTERM/SIGINT stop accepting, let in-flight requests and their commits
 * finish, stop the worker, close the database, exit 0 (or 1 past the bound).
 */
import { planReload } from "../config/reload";
import { segmentsDirProblem, storageDirProblem } from "../store/storage-dir";
import { ConfigError } from "../config/load";
import type { WriterSettings } from "../writer/protocol";
import type { AdminDeps } from "../http/admin";
import type { MetricsDeps } from "../http/metrics";
import type { WebhookDeps } from "../http/webhook";
import { redactionKey, redactorFor } from "../util/redact";
import { processGauges } from "../metrics/gauges";
import type { Database } from "bun:sqlite";
import { BACKGROUND_BUSY_TIMEOUT_MS, WRITER_BUSY_TIMEOUT_MS } from "../config/defaults";
import { parseDuration } from "../config/duration";
import { parseListen, type Config } from "../config/schema";
import { DEV_CONFIG_ORIGIN, isLoopback, publicDevSecrets, refusePublicDevSecrets, type ConfigSource } from "../config/source";
import { trustTest } from "../util/cidr";
import { RequestTracker, STOP_GRACE_MS, stopServer } from "../http/stop";
import { createApp } from "../http/app";
import { Inbox } from "../ingest/inbox";
import { LogStore, RECYCLE_EVERY_MS } from "../ingest/log-store";
import type { AdminAnswer, AdminOp } from "../admin/ops";
import { indexedThroughAnySchema } from "../store/inbox-store";
import { SegmentLog, segmentsDir } from "../store/segment-log";
import { InflightBudget } from "../ingest/inflight";
import { startCheckpointer } from "../store/checkpointer";
import { trimHeap } from "../util/heap-trim";
import { openDatabase, readPragmas } from "../store/db";
import { StorageError } from "../store/errors";
import { acquireInstanceLock, InstanceLockedError, type InstanceLock } from "../store/instance-lock";
import { migrate, MigrationError } from "../store/migrate";
import { WriterThread } from "../writer/client";
import { systemClock, type Clock } from "../util/clock";
import { captureConsole, createLogger, type Logger } from "../util/log";
import { VERSION } from "../version";
import { runServePostgres } from "./serve-postgres";

/** A startup failure that names the config key it comes from. */
export class StartupError extends Error {
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`${key}: ${reason}`);
  }
}

/** `reread` loads the config again, as at start (for SIGHUP). */
export async function runServe(source: ConfigSource<Config>, reread: () => ConfigSource<Config>): Promise<void> {
  if (source.config.storage.engine === "postgres") return runServePostgres(source, reread);
  const { config, origin, warnings } = source;
  const startedAt = Date.now();
  const redactKey = redactionKey(config.log, config.admin.token);
  const log = createLogger(config.log.level, undefined, redactorFor(redactKey));
  captureConsole(log);
  if (redactKey === null) log.warn("log.redact = false: phone numbers appear in the logs in clear; they are personal data");
  const clock = systemClock;
  if (origin === DEV_CONFIG_ORIGIN) {
    log.warn("running on the embedded dev config: its secrets are public, do not expose this instance");
  }
  for (const w of warnings) log.warn("config warning", { key: w.key, warning: w.reason });
  const { hostname, port } = parseListen(config.server.listen)!;
  refusePublicDevSecrets(config);
  trimHeap();
  addressFree(config, { hostname, port });
  const lock = takeInstanceLock(config.storage.path);
  const db = openForStart(config);
  // Opened first: it cuts off a write torn by a crash before the writer thread indexes what the log holds;
  // and before migrating: a log that refuses to start leaves the database as the previous binary knew it.
  const segmentLog = await openSegmentLog(config, indexedBeforeMigrating(db)).catch((err) => {
    db.close();
    throw err;
  });
  const { migration, pragmas } = migrateDatabase(db);
  const writer = await startWriter(config, log, segmentLog.nextId - 1);
  const checkpointer = startCheckpointer(config.storage.path, config.storage.synchronous, log);
  const store = new LogStore(segmentLog, writer);
  const recycling = setInterval(() => store.recycle().catch((err) => log.debug("inbox log not recycled this time", { error: err })), RECYCLE_EVERY_MS);
  const inbox = new Inbox(store, {
    lockTimeoutMs: parseDuration(config.storage.lock_timeout)!,
    clock,
    log,
  });
  const requests = new RequestTracker();
  // Held here so a reload can change them in place: handlers read them per request.
  const admin: AdminDeps = { token: config.admin.token, run: (op) => adminCall(writer, store, op, log), log };
  const metrics: MetricsDeps = {
    token: config.admin.metrics_token ?? null,
    writer: () => writer.metrics(),
    local: () => processGauges(config.storage.path, VERSION, startedAt),
    log,
  };
  const webhook = webhookDeps(config, requests, inbox, clock, log);
  const app = appFor(config, hostname, { log, health: store, admin, metrics, webhook });
  const reload = reloader(config, hostname, reread, log, { webhook, admin, metrics }, {
    where: "in the writer thread",
    apply: (next, key) => writer.reload(writerSettings(next, key)),
  });
  serveUntilStopped(app, config, { hostname, port }, requests, inbox, reload, log, async () => {
    clearInterval(recycling);
    await checkpointer.stop();
    await writer.close(); // indexes what it was handed first; what it could not stays in the log
    await segmentLog.close();
    lock.release();
  });
  log.info("listening", {
    version: VERSION,
    config: origin,
    listen: `${hostname.includes(":") ? `[${hostname}]` : hostname}:${app.server!.port}`,
    webhook_path: config.server.webhook_path,
    database: config.storage.path,
    journal_mode: pragmas.journal_mode,
    synchronous: pragmas.synchronous,
    schema_version: migration.to,
    migrations_applied: migration.applied,
    app_secrets: config.whatsapp.app_secrets.length,
    ...runningFields(config, hostname),
  });
}

/** What the startup line says on either engine about the worker, the hooks, the UIs and fallback. */
export function runningFields(config: Config, hostname: string) {
  const ui = uiSwitches(config, hostname);
  return {
    worker: config.worker.enabled,
    hooks: config.hooks.map((h) => h.name),
    docs: ui.docs ? "/docs" : false,
    console: ui.console ? "/console" : false,
    // Off, or how it runs: "send" or "shadow" (and only with the worker on).
    fallback: config.fallback.enabled && config.worker.enabled ? config.fallback.mode : false,
  };
}

/** The UIs show personal data once a token is entered: on by default only where no one else can reach them. */
export function uiSwitches(config: Config, hostname: string) {
  return { docs: config.admin.docs ?? isLoopback(hostname), console: config.admin.console ?? isLoopback(hostname) };
}

/** What the webhook route runs with, from the config (verify token, secrets: replaced in place by a reload). */
export function webhookDeps(config: Config, requests: RequestTracker, inbox: Inbox, clock: Clock, log: Logger): WebhookDeps {
  return {
    path: config.server.webhook_path,
    verifyToken: config.whatsapp.verify_token,
    appSecrets: appSecretsOf(config),
    maxBodyBytes: config.server.max_body_bytes,
    bodyTimeoutMs: parseDuration(config.server.body_timeout)!,
    inflight: new InflightBudget(config.server.max_inflight_bytes),
    requests,
    inbox,
    trustedProxy: trustTest(config.server.trusted_proxies),
    clock,
    log,
  };
}

export function appFor(config: Config, hostname: string, deps: Omit<Parameters<typeof createApp>[0], "docs" | "console" | "idleTimeoutSec">) {
  return createApp({
    ...deps,
    ...uiSwitches(config, hostname),
    idleTimeoutSec: Math.round(parseDuration(config.server.idle_timeout)! / 1000),
  });
}

/**
 * SIGHUP's reload: the config read again (refused when invalid, or with the public dev
 * secrets on a public listen); `engine.apply` takes the engine's part (hooks, worker) and
 * may refuse it by throwing; then the request thread's part. Keys that need a restart
 * are said, not applied.
 */
export function reloader(
  config: Config,
  hostname: string,
  reread: () => ConfigSource<Config>,
  log: Logger,
  deps: { webhook: WebhookDeps; admin: AdminDeps; metrics: MetricsDeps },
  engine: { where: string; apply: (next: Config, redactKey: string | null) => Promise<void>; restartOnly?: readonly (keyof Config["worker"])[] },
  running = { config },
) {
  return async () => {
    const next = rereadOrSay(reread, log);
    if (!next) return;
    const devKeys = isLoopback(hostname) ? [] : publicDevSecrets(next);
    if (devKeys.length > 0) {
      return log.error("reload refused: the new config uses the public dev secrets on a public listen; the running config stays", { keys: devKeys });
    }
    const plan = planReload(running.config, next, engine.restartOnly);
    if (plan.needRestart.length > 0) log.warn("config changes that need a restart were not applied", { keys: plan.needRestart });
    const key = redactionKey(plan.config.log, plan.config.admin.token);
    try {
      await engine.apply(plan.config, key);
    } catch (err) {
      return log.error(`reload failed ${engine.where}; the running config stays`, { error: err });
    }
    log.configure(plan.config.log.level, redactorFor(key));
    deps.webhook.verifyToken = plan.config.whatsapp.verify_token;
    deps.webhook.appSecrets = appSecretsOf(plan.config);
    deps.admin.token = plan.config.admin.token;
    deps.metrics.token = plan.config.admin.metrics_token ?? null;
    running.config = plan.config;
    log.info("config reloaded", { changed: plan.applied, hooks: plan.config.hooks.map((h) => h.name) });
  };
}

/** Another daemon (make run?) most often: says how to pick another address for this one. */
const cannotListen = (config: Config, err: unknown) =>
  new StartupError("server.listen", `cannot listen on ${config.server.listen}: ${(err as Error).message} (another daemon on it? --listen HOST:PORT, or server.listen, gives this one another)`);

/**
 * The address is free, checked before the database is touched: a start that could not
 * listen must not have migrated it (the previous binary would then refuse it). A port
 * taken in between is still caught when the server listens.
 */
export function addressFree(config: Config, at: { hostname: string; port: number }) {
  if (at.port === 0) return;
  try {
    Bun.listen({ hostname: at.hostname, port: at.port, socket: { data() {} } }).stop(true);
  } catch (err) {
    throw cannotListen(config, err);
  }
}

/**
 * Listens, and on SIGTERM stops: no new connections, the requests in flight answered and
 * their webhooks committed, then `closeEngine`. SIGHUP runs `reload`. The signals are
 * installed before "listening" is said: a SIGTERM right after it must shut down cleanly.
 */
export function serveUntilStopped(
  app: ReturnType<typeof createApp>,
  config: Config,
  at: { hostname: string; port: number },
  requests: RequestTracker,
  inbox: Inbox,
  reload: () => Promise<void>,
  log: Logger,
  closeEngine: () => Promise<void>,
): (why: string, code: number) => void {
  try {
    app.listen(at);
  } catch (err) {
    throw cannotListen(config, err);
  }
  const shutdownMs = parseDuration(config.server.shutdown_timeout)!;
  return installSignals(log, shutdownMs, reload, async () => {
    const { forced } = await stopServer(app.server!, requests, Math.min(STOP_GRACE_MS, shutdownMs / 4));
    if (forced > 0) log.warn("closed connections still sending when the shutdown grace ended", { requests: forced });
    await inbox.drain();
    await closeEngine();
  });
}


function takeInstanceLock(path: string): InstanceLock {
  const problem = storageDirProblem(path) ?? segmentsDirProblem(segmentsDir(path));
  if (problem) throw new StartupError("storage.path", `cannot use ${path}: ${problem}`);
  try {
    return acquireInstanceLock(path);
  } catch (err) {
    if (err instanceof InstanceLockedError) throw new StartupError("storage.path", err.message);
    throw new StartupError("storage.path", `cannot take the instance lock beside ${path}: ${describe(err)}`);
  }
}

/** An erasure also leaves no copy in the inbox log: its segments go once everything in them is indexed (and so erased). */
async function adminCall(writer: WriterThread, store: LogStore, op: AdminOp, log: Logger): Promise<AdminAnswer> {
  const cutoff = store.lastId;
  const answer = await writer.admin(op);
  if (op.op === "erase-contact" && answer.status === 200 && !(await store.purge(cutoff))) {
    log.warn("erasure: the inbox log still holds webhooks not yet indexed; its segments go once they are", {});
  }
  return answer;
}

async function openSegmentLog(config: Config, indexedThrough: number): Promise<SegmentLog> {
  const dir = segmentsDir(config.storage.path);
  try {
    return await SegmentLog.open(dir, { synchronous: config.storage.synchronous, minNextId: indexedThrough + 1 });
  } catch (err) {
    throw new StartupError("storage.path", `cannot open the inbox log ${dir}: ${describe(err)}`);
  }
}

function openForStart(config: Config): Database {
  try {
    return openDatabase(config.storage.path, {
      synchronous: config.storage.synchronous,
      busyTimeoutMs: BACKGROUND_BUSY_TIMEOUT_MS,
      autoCheckpoint: false,
    });
  } catch (err) {
    throw new StartupError("storage.path", `cannot open database ${config.storage.path}: ${describe(err)}`);
  }
}

function indexedBeforeMigrating(db: Database): number {
  try {
    return indexedThroughAnySchema(db);
  } catch (err) {
    db.close();
    throw new StartupError("storage.path", `cannot read database ${db.filename}: ${describe(err)}`);
  }
}

/** Migrates (and closes) the database opened for the start; the effective pragmas are read back. */
function migrateDatabase(db: Database) {
  try {
    const migration = migrate(db);
    return { migration, pragmas: readPragmas(db) };
  } catch (err) {
    if (err instanceof MigrationError) throw new StartupError("storage.path", err.message);
    throw new StartupError("storage.path", `migration failed: ${describe(err)}`);
  } finally {
    db.close();
  }
}

async function startWriter(config: Config, log: Logger, logEnd: number): Promise<WriterThread> {
  try {
    return await WriterThread.start(
      {
        path: config.storage.path,
        synchronous: config.storage.synchronous,
        busyTimeoutMs: WRITER_BUSY_TIMEOUT_MS,
        logEnd,
        ...writerSettings(config, redactionKey(config.log, config.admin.token)),
      },
      log,
    );
  } catch (err) {
    throw new StartupError("storage.path", `cannot open database ${config.storage.path}: ${describe(err)}`);
  }
}

export function describe(err: unknown): string {
  return err instanceof StorageError ? `${err.message} (${err.kind})` : (err as Error).message;
}

export const appSecretsOf = (config: Config) => config.whatsapp.app_secrets.map((s) => new TextEncoder().encode(s));

/** What the writer thread runs with: at start, and again on each reload. */
function writerSettings(config: Config, redactKey: string | null): WriterSettings {
  return {
    logLevel: config.log.level,
    redactKey,
    trafficIntervalMs: parseDuration(config.log.traffic_interval)!,
    hooks: config.hooks,
    worker: config.worker.enabled ? { worker: config.worker, hooks: config.hooks, fallback: config.fallback, sweeper: config.sweeper, alerts: config.alerts, storage: config.storage } : null,
  };
}

/** The config file read again; an invalid one is said in the log, with the keys, and null. */
export function rereadOrSay(reread: () => ConfigSource<Config>, log: Logger): Config | null {
  try {
    const source = reread();
    for (const w of source.warnings) log.warn("config warning", { key: w.key, warning: w.reason });
    return source.config;
  } catch (err) {
    const problems = err instanceof ConfigError ? err.problems.map((p) => `${p.key}: ${p.reason}`) : [describe(err)];
    log.error("reload refused: the new config is invalid; the running config stays", { problems });
    return null;
  }
}

/** SIGTERM/SIGINT stop; SIGHUP (`systemctl reload`) reloads, one reload at a time. */
/** The returned function stops the same way from inside (`why` logged as the signal), exiting with `code` once stopped. */
export function installSignals(log: Logger, timeoutMs: number, reload: () => Promise<void>, close: () => Promise<void>): (why: string, code: number) => void {
  let stopping = false;
  const onSignal = async (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal, timeout_ms: timeoutMs });
    const force = setTimeout(() => {
      log.error("shutdown timed out; exiting with requests still in flight", { timeout_ms: timeoutMs });
      process.exit(1);
    }, timeoutMs);
    try {
      await close();
      log.info("stopped");
      process.exit(code);
    } catch (err) {
      log.error("shutdown failed", { error: err });
      process.exit(1);
    } finally {
      clearTimeout(force);
    }
  };
  process.on("SIGTERM", () => void onSignal("SIGTERM"));
  process.on("SIGINT", () => void onSignal("SIGINT"));
  let reloading: Promise<void> = Promise.resolve();
  process.on("SIGHUP", () => {
    if (stopping) return;
    log.info("reloading the config", { signal: "SIGHUP" });
    reloading = reloading.then(reload);
  });
  return (why, code) => void onSignal(why, code);
}
