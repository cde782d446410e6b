/**
 * `replay`, `retry-dead`, `reprocess` and `orphans` on the PostgreSQL engine, with the
 * flags, lines and JSON they have on SQLite (cli/operator-answers.ts), through the stores
 * the admin API's POST /v1/replay, /v1/deliveries/retry, /v1/inbox/{id}/reprocess and
 * /v1/deliveries/orphaned use. Where SQLite has its one daemon's hooks (daemon_hooks),
 * the daemon here is the live instances (store/postgres/instance-hooks.ts): a hook is run
 * while one of them runs it. As on SQLite, they only (re)queue rows, and an instance sends.
 *
 * Two things SQLite does cannot be done the same way here, and are refused (exit 1):
 * - with no live instance, SQLite queues for the stopped daemon's recorded hooks; here no
 *   one's hooks are the daemon's (and `orphans --cancel` would take every open delivery
 *   for orphaned), so replay, retry-dead and orphans wait for an instance to run;
 * - a replay by the hooks' filters while live instances run one hook with different
 *   filters (a reload reaching them one by one): SQLite's daemon has one set, here which
 *   one applies is not known, so it waits for the instances to agree (or a forced --hook).
 */
import type { SQL } from "bun";
import type { HookRoute, OperatorConfig } from "../config/schema";
import { isStorageFailure, toStorageError } from "../store/errors";
import { postgresAdminQueries } from "../store/postgres/admin-queries";
import { instanceHooksStore } from "../store/postgres/instance-hooks";
import { INSTANCE_STALE_MS, instancesStore } from "../store/postgres/instances";
import { postgresRequeue } from "../store/postgres/requeue-store";
import type { OperatorCommand } from "./args";
import { hookRefusal, orphansFlagRefusal, orphansListed, orphansResolvedSaid, replaySaid, retriedSaid, revivedSaid, say, type Said } from "./operator-answers";
import { OperatorError, UsageError } from "./operator";
import { openPostgresExisting } from "./postgres-operator";
import { moveTargetError, orphanHookError } from "../domain/orphans";
import { addPage, PAGE_EVENTS, ReplayError, replayTargets, reprocessRefusal, type ReplayResult } from "../domain/replay";

type Requeue = ReturnType<typeof postgresRequeue>;

/** The hooks the live instances run, once each, and those that two of them run with different filters. */
interface DaemonHooks {
  hooks: HookRoute[];
  differing: Set<string>;
}

export async function runPostgresRequeue(config: OperatorConfig, command: OperatorCommand): Promise<number> {
  const sql = await openPostgresExisting(config, command.kind);
  try {
    say(command, await execute(sql, config, command, Date.now()));
    return 0;
  } catch (err) {
    // The database failing is a StorageError (exit 1 with its message), as on SQLite.
    throw isStorageFailure(err) ? toStorageError(err) : err;
  } finally {
    await sql.close();
  }
}

async function execute(sql: SQL, config: OperatorConfig, command: OperatorCommand, now: number): Promise<Said> {
  const requeue = postgresRequeue(sql);
  if (command.kind === "reprocess") return revivedSaid(await reprocess(sql, requeue, command.inbox));
  const daemon = await daemonHooks(sql, command.kind);
  const running = daemon.hooks.map((h) => h.name);
  const orphaned = await requeue.orphaned(running);
  if (command.kind === "orphans") return orphans(requeue, running, orphaned, command, now);
  const refused = hookRefusal(command.hook, daemon.hooks, config.hooks, orphaned);
  if (refused !== null) throw new UsageError(refused);
  if (command.kind === "retry-dead") return retriedSaid(await requeue.retryDead(command.hook === null ? running : [command.hook], now), command.hook);
  return replaySaid(await replay(requeue, daemon, command, now), command.hook, daemon.hooks.length);
}

/** The live instances' hooks (the first instance's filters, by name, for a hook two run); refused when none is live. */
async function daemonHooks(sql: SQL, command: string): Promise<DaemonHooks> {
  const live = (await instancesStore(sql).list(INSTANCE_STALE_MS)).filter((i) => i.live);
  if (live.length === 0) {
    throw new OperatorError(
      `${command}: no instance is live on this database (none renewed within ${INSTANCE_STALE_MS / 1000} s): with storage.engine = "postgres" the hooks it works with are those the live instances run; start one first`,
    );
  }
  const hooks = new Map<string, HookRoute>();
  const differing = new Set<string>();
  for (const { instance: _, ...route } of await instanceHooksStore(sql).liveRoutes(INSTANCE_STALE_MS)) {
    const first = hooks.get(route.name);
    if (!first) hooks.set(route.name, route);
    else if (JSON.stringify(first) !== JSON.stringify(route)) differing.add(route.name);
  }
  return { hooks: [...hooks.values()], differing };
}

/** The whole selection, a page per transaction, as SQLite's replayEvents. */
async function replay(requeue: Requeue, daemon: DaemonHooks, command: Extract<OperatorCommand, { kind: "replay" }>, now: number): Promise<ReplayResult> {
  const request = { selection: command.selection, hook: command.hook, force: command.force };
  const targets = replayTargets(daemon.hooks, request);
  const unsure = command.force ? undefined : targets.find((t) => daemon.differing.has(t.name));
  if (unsure) {
    throw new OperatorError(
      `replay: the live instances run hook "${unsure.name}" with different filters (a reload not yet on all of them?), so which events it wants is not known: replay once they run the same [[hooks]], or name it with --hook ${unsure.name} --force`,
    );
  }
  const total: ReplayResult = { events: 0, queued: {} };
  let after: string | null = null;
  do after = addPage(total, await requeue.replayPage(command.selection, targets, after, PAGE_EVENTS, now));
  while (after !== null);
  if (command.selection.eventId !== null && total.events === 0) throw new ReplayError(`no event ${command.selection.eventId}`);
  return total;
}

/** Dead webhooks processed again: one (refused unless dead, as on SQLite), or all. */
async function reprocess(sql: SQL, requeue: Requeue, inbox: number | null): Promise<number> {
  if (inbox === null) return requeue.reprocessDead();
  const r = await postgresAdminQueries(sql).reprocess(inbox);
  if (r.revived) return 1;
  // Not revived: the row is missing or not dead, which the refusal says.
  throw new ReplayError(reprocessRefusal(inbox, r.state)!);
}

/** Lists the orphaned deliveries, or cancels or moves them, refusing as SQLite's command does. */
async function orphans(requeue: Requeue, running: string[], orphaned: Record<string, Record<string, number>>, command: Extract<OperatorCommand, { kind: "orphans" }>, now: number): Promise<Said> {
  if (command.action === null) return orphansListed(orphaned, running, command.hook);
  const wrongTarget = moveTargetError(running, command.action);
  if (wrongTarget) throw new UsageError(orphansFlagRefusal(wrongTarget));
  const r = await requeue.resolveOrphans(running, command.hook, command.action, (found) => orphanHookError(running, found, command.hook), now);
  if ("refused" in r) throw new UsageError(orphansFlagRefusal(r.refused));
  return orphansResolvedSaid(r);
}
