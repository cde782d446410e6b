/**
 * `replay`, `retry-dead`, `reprocess`, `orphans`: operator commands on the database. They
 * only (re)queue rows; the running daemon (or the next start) does the work. Hooks are
 * the daemon's, as it recorded them at its last start or reload, not --config's. They never
 * create or migrate a database: a missing or differently versioned file is an error,
 * because it almost always means the wrong --config or the wrong binary.
 */
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { BACKGROUND_BUSY_TIMEOUT_MS } from "../config/defaults";
import type { HookRoute, OperatorConfig } from "../config/schema";
import { daemonHooksStore } from "../store/daemon-hooks-store";
import { orphanedCounts, OrphanError, resolveOrphans, type OrphansResolved } from "../worker/orphans";
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
  const db = openExisting(config.storage.path, config.storage.synchronous);
  try {
    // The hooks the daemon runs (recorded at its last start or reload): --config may not be its file.
    const daemonHooks = daemonHooksStore(db).list();
    if (command.kind === "replay" || command.kind === "retry-dead") checkHook(command.hook, daemonHooks, config.hooks, orphanedCounts(db, daemonHooks.map((h) => h.name)));
    const { line, json } = execute(db, daemonHooks, command, Date.now());
    process.stdout.write((command.json ? JSON.stringify(json) : line) + "\n");
    return 0;
  } finally {
    db.close();
  }
}

/** A --hook the daemon does not run: one it ran before, a typo (not in --config either), or a config the daemon does not run with. */
function checkHook(hook: string | null, daemonHooks: readonly HookRoute[], configHooks: readonly HookRoute[], orphaned: Record<string, Record<string, number>>) {
  if (hook === null || daemonHooks.some((h) => h.name === hook)) return;
  const list = (hooks: readonly HookRoute[]) => hooks.map((h) => h.name).join(", ");
  const open = orphaned[hook];
  if (open) {
    const n = Object.values(open).reduce((a, b) => a + b, 0);
    throw new UsageError(`--hook: the daemon no longer runs hook "${hook}"; its open deliveries (${n}) are orphaned: \`wa-webhookd orphans --cancel\` or \`--move-to HOOK\` them`);
  }
  if (!configHooks.some((h) => h.name === hook)) {
    throw new UsageError(`--hook: no hook named "${hook}" in the config (${configHooks.length > 0 ? `hooks: ${list(configHooks)}` : "it has no hooks"})`);
  }
  throw new UsageError(
    `--hook: the daemon does not run a hook named "${hook}" (it runs: ${list(daemonHooks) || "none"}, as of its last start or reload): ` +
      "is --config the daemon's own file, and was the daemon reloaded after the hook was added? (`wa-webhookd orphans` handles deliveries of a removed hook)",
  );
}

function execute(db: Database, daemonHooks: readonly HookRoute[], command: OperatorCommand, now: number): { line: string; json: object } {
  switch (command.kind) {
    case "replay": {
      const result = replayEvents(db, daemonHooks, { selection: command.selection, hook: command.hook, force: command.force }, now);
      return { line: describeReplay(result, command.hook, daemonHooks.length), json: result };
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
    case "orphans":
      return orphans(db, daemonHooks.map((h) => h.name), command, now);
  }
}

/** Lists the orphaned deliveries, or cancels or moves them. */
function orphans(db: Database, running: string[], command: Extract<OperatorCommand, { kind: "orphans" }>, now: number): { line: string; json: object } {
  if (command.action === null) {
    const counts = orphanedCounts(db, running);
    const hooks = Object.entries(counts).filter(([hook]) => command.hook === null || hook === command.hook);
    if (hooks.length === 0) return { line: `orphans: none (the daemon runs: ${running.join(", ") || "no hooks"})`, json: { orphaned: {} } };
    const perHook = hooks.map(([hook, open]) => `${hook}: ${Object.entries(open).map(([state, n]) => `${n} ${state}`).join(", ")}`);
    return { line: `orphans: ${perHook.join("; ")}; cancel them with --cancel, or queue them to a hook the daemon runs with --move-to HOOK`, json: { orphaned: Object.fromEntries(hooks) } };
  }
  let result: OrphansResolved;
  try {
    result = resolveOrphans(db, running, command.hook, command.action, now);
  } catch (err) {
    if (err instanceof OrphanError) throw new UsageError(`--${err.message.replace(/^to:/, "move-to:")}`);
    throw err;
  }
  const total = Object.values(result.cancelled).reduce((a, b) => a + b, 0);
  const perHook = Object.entries(result.cancelled).map(([hook, n]) => `${hook}: ${n}`).join(", ");
  const what = `${plural(total, "orphaned delivery", "orphaned deliveries")}${total > 0 ? ` (${perHook})` : ""}`;
  const line =
    result.moved_to === null
      ? `orphans: ${what} cancelled`
      : `orphans: ${what} moved: ${plural(result.queued, "delivery", "deliveries")} queued to ${result.moved_to}; the running daemon sends them`;
  return { line, json: result };
}

function describeReplay(result: ReplayResult, hook: string | null, hookCount: number): string {
  const hooks = Object.entries(result.queued);
  const total = hooks.reduce((n, [, count]) => n + count, 0);
  const matched = `replay: ${plural(result.events, "event")} matched`;
  if (result.events === 0) return `${matched}; nothing queued`;
  if (hookCount === 0) return `${matched}; the daemon runs no [[hooks]], nothing queued`;
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
