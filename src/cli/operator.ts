/**
 * `replay`, `retry-dead`, `reprocess`, `orphans`: operator commands on the SQLite file
 * (cli/postgres-requeue.ts runs them on PostgreSQL). They only (re)queue rows; the
 * running daemon (or the next start) does the work. Hooks are the daemon's, as it
 * recorded them at its last start or reload, not --config's. They never create or
 * migrate a database: a missing or differently versioned file is an error,
 * because it almost always means the wrong --config or the wrong binary.
 */
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { BACKGROUND_BUSY_TIMEOUT_MS } from "../config/defaults";
import type { HookRoute, OperatorConfig } from "../config/schema";
import { daemonHooksStore } from "../store/daemon-hooks-store";
import { openDatabase } from "../store/db";
import { schemaVersion } from "../store/migrate";
import { LATEST_VERSION } from "../store/migrations";
import type { OperatorCommand } from "./args";
import { hookRefusal, orphansFlagRefusal, orphansListed, orphansResolvedSaid, replaySaid, retriedSaid, revivedSaid, say, type Said } from "./operator-answers";
import { orphanedCounts, resolveOrphans, replayEvents, reprocessDeadInbox, retryDeadDeliveries } from "../store/requeue-store";
import { OrphanError } from "../domain/orphans";

/** Bad input discovered once the config is known (e.g. an unknown hook): exit 2 with usage. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The command could not do its work (no database, no such event): exit 1. */
export class OperatorError extends Error {
  override name = "OperatorError";
}

export function runOperatorCommand(config: OperatorConfig, command: OperatorCommand): number {
  const db = openExisting(config.storage.path, config.storage.synchronous);
  try {
    // The hooks the daemon runs (recorded at its last start or reload): --config may not be its file.
    const daemonHooks = daemonHooksStore(db).list();
    if (command.kind === "replay" || command.kind === "retry-dead") {
      const refused = hookRefusal(command.hook, daemonHooks, config.hooks, orphanedCounts(db, daemonHooks.map((h) => h.name)));
      if (refused !== null) throw new UsageError(refused);
    }
    say(command, execute(db, daemonHooks, command, Date.now()));
    return 0;
  } finally {
    db.close();
  }
}

function execute(db: Database, daemonHooks: readonly HookRoute[], command: OperatorCommand, now: number): Said {
  switch (command.kind) {
    case "replay":
      return replaySaid(replayEvents(db, daemonHooks, { selection: command.selection, hook: command.hook, force: command.force }, now), command.hook, daemonHooks.length);
    case "retry-dead":
      return retriedSaid(retryDeadDeliveries(db, now, command.hook), command.hook);
    case "reprocess":
      return revivedSaid(reprocessDeadInbox(db, command.inbox));
    case "orphans":
      return orphans(db, daemonHooks.map((h) => h.name), command, now);
  }
}

/** Lists the orphaned deliveries, or cancels or moves them. */
function orphans(db: Database, running: string[], command: Extract<OperatorCommand, { kind: "orphans" }>, now: number): Said {
  if (command.action === null) return orphansListed(orphanedCounts(db, running), running, command.hook);
  try {
    return orphansResolvedSaid(resolveOrphans(db, running, command.hook, command.action, now));
  } catch (err) {
    if (err instanceof OrphanError) throw new UsageError(orphansFlagRefusal(err.message));
    throw err;
  }
}

export function openExisting(path: string, synchronous: OperatorConfig["storage"]["synchronous"]): Database {
  if (!existsSync(path)) {
    throw new OperatorError(`storage.path: no database at ${path} (the daemon creates it on its first start; is --config the daemon's config?)`);
  }
  const db = openDatabase(path, { synchronous, busyTimeoutMs: BACKGROUND_BUSY_TIMEOUT_MS, autoCheckpoint: true, create: false });
  let version: number;
  try {
    version = schemaVersion(db);
  } catch {
    version = 0;
  }
  if (version !== LATEST_VERSION) {
    db.close();
    // Older: this release's daemon migrates it. Newer: only the release that wrote it reads it.
    const what = version > LATEST_VERSION ? "use the wa-webhookd release that wrote it (a rollback: that release's binary)" : "run the daemon of this release on it first (it migrates at start), or this command with the binary that wrote it";
    throw new OperatorError(`storage.path: ${path} has schema version ${version}, this binary expects ${LATEST_VERSION}; ${what}`);
  }
  return db;
}
