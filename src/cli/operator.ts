/**
 * `replay`, `retry-dead`, `reprocess`: operator commands on the database. They only
 * (re)queue rows; the running daemon (or the next start) does the work. They never
 * create or migrate a database: a missing or differently versioned file is an error,
 * because it almost always means the wrong --config or the wrong binary.
 */
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { BACKGROUND_BUSY_TIMEOUT_MS } from "../config/defaults";
import type { OperatorConfig } from "../config/schema";
import { openDatabase } from "../store/db";
import { schemaVersion } from "../store/migrate";
import { LATEST_VERSION } from "../store/migrations";
import { replayEvents, reprocessDeadInbox, retryDeadDeliveries, type ReplayResult } from "../worker/replay";
import type { OperatorCommand } from "./args";
import { plural } from "../util/plural";

/** Bad input discovered once the config is known (e.g. an unknown hook): exit 2 with usage. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The command could not do its work (no database, no such event): exit 1. */
export class OperatorError extends Error {
  override name = "OperatorError";
}

export function runOperatorCommand(config: OperatorConfig, command: OperatorCommand): number {
  const hook = command.kind === "reprocess" ? null : command.hook;
  if (hook !== null && !config.hooks.some((h) => h.name === hook)) {
    const names = config.hooks.map((h) => h.name);
    throw new UsageError(`--hook: no hook named "${hook}" in the config (${names.length > 0 ? `hooks: ${names.join(", ")}` : "it has no hooks"})`);
  }
  const db = openExisting(config.storage.path, config.storage.synchronous);
  try {
    const { line, json } = execute(db, config, command, Date.now());
    process.stdout.write((command.json ? JSON.stringify(json) : line) + "\n");
    return 0;
  } finally {
    db.close();
  }
}

function execute(db: Database, config: OperatorConfig, command: OperatorCommand, now: number): { line: string; json: object } {
  switch (command.kind) {
    case "replay": {
      const result = replayEvents(db, config.hooks, { selection: command.selection, hook: command.hook, force: command.force }, now);
      return { line: describeReplay(result, command.hook, config.hooks.length), json: result };
    }
    case "retry-dead": {
      const retried = retryDeadDeliveries(db, now, command.hook);
      const scope = command.hook === null ? "" : ` of hook ${command.hook}`;
      return { line: `retry-dead: ${plural(retried, "dead delivery", "dead deliveries")}${scope} queued again; the running daemon sends them`, json: { retried } };
    }
    case "reprocess": {
      const revived = reprocessDeadInbox(db, command.inbox);
      return { line: `reprocess: ${plural(revived, "dead inbox row")} queued for processing again; the running daemon processes them`, json: { revived } };
    }
  }
}

function describeReplay(result: ReplayResult, hook: string | null, hookCount: number): string {
  const hooks = Object.entries(result.queued);
  const total = hooks.reduce((n, [, count]) => n + count, 0);
  const matched = `replay: ${plural(result.events, "event")} matched`;
  if (result.events === 0) return `${matched}; nothing queued`;
  if (hookCount === 0) return `${matched}; the config has no [[hooks]], nothing queued`;
  if (total === 0) {
    return hook === null
      ? `${matched}; no hook wants them (check the hooks' events and phone_number_ids filters)`
      : `${matched}; hook ${hook}'s filters exclude them all, nothing queued (add --force to send them anyway)`;
  }
  const perHook = hooks.map(([name, count]) => `${name}: ${count}`).join(", ");
  return `${matched}; ${plural(total, "delivery", "deliveries")} queued (${perHook}); the running daemon sends them`;
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
    throw new OperatorError(
      `storage.path: ${path} has schema version ${version}, this binary expects ${LATEST_VERSION}; run the daemon of this release on it first`,
    );
  }
  return db;
}
