/**
 * The SQLite engine's requeues (operator commands and the admin API): replay stored
 * events to hooks, a page per IMMEDIATE transaction; dead deliveries and dead inbox rows
 * back in their queues; orphaned deliveries cancelled or moved. What to queue and what
 * to refuse is decided in domain/replay.ts and domain/orphans.ts, for both engines.
 */
import type { Database } from "bun:sqlite";
import type { HookRoute } from "../config/schema";
import { moveTargetError, OrphanError, orphanHookError, type OrphanAction, type OrphansResolved } from "../domain/orphans";
import { addPage, PAGE_EVENTS, planReplayPage, ReplayError, replayTargets, reprocessRefusal, type ReplayPage, type ReplayRequest, type ReplayResult } from "../domain/replay";
import { deliveryStore } from "./delivery-store";
import { queueStore } from "./queue-store";
import { reportStore } from "./report-store";

/**
 * Queues one delivery per matching event (at most `limit` of them, stored after event
 * `after`) and interested hook, in one transaction.
 */
export function replayPage(db: Database, hooks: readonly HookRoute[], request: ReplayRequest, now: number, after: string | null, limit: number): ReplayPage {
  const targets = replayTargets(hooks, request);
  const store = deliveryStore(db);
  return db
    .transaction(() => {
      // One event past the page says whether another page follows.
      const { page, requeue } = planReplayPage(store.events(request.selection, after, limit + 1), targets, limit);
      for (const r of requeue) store.requeue(r.eventId, r.hook, now);
      if (request.selection.eventId !== null && page.events === 0) throw new ReplayError(`no event ${request.selection.eventId}`);
      return page;
    })
    .immediate();
}

/** The whole selection, a page per transaction. */
export function replayEvents(db: Database, hooks: readonly HookRoute[], request: ReplayRequest, now: number): ReplayResult {
  const total: ReplayResult = { events: 0, queued: {} };
  let after: string | null = null;
  do after = addPage(total, replayPage(db, hooks, request, now, after, PAGE_EVENTS));
  while (after !== null);
  return total;
}

/** Dead deliveries (all hooks, or one) go back to pending with a fresh schedule. */
export function retryDeadDeliveries(db: Database, now: number, hook: string | null): number {
  return deliveryStore(db).retryDead(now, hook);
}

/** Dead inbox rows (all, or one) are processed again. A named row that is not dead is an error. */
export function reprocessDeadInbox(db: Database, inboxId: number | null): number {
  const queue = queueStore(db);
  if (inboxId === null) return queue.revive(null);
  const refused = reprocessRefusal(inboxId, queue.state(inboxId));
  if (refused !== null) throw new ReplayError(refused);
  return queue.revive(inboxId);
}

/** Open deliveries per hook and state, for hooks not among `running`. */
export function orphanedCounts(db: Database, running: readonly string[]): Record<string, Record<string, number>> {
  const report = reportStore(db);
  const orphans = report.hooksWithOpenDeliveries().filter((hook) => !running.includes(hook));
  return Object.fromEntries(orphans.map((hook) => [hook, report.openDeliveries(hook)]));
}

/** Cancels or moves the orphaned deliveries (of one hook, or of all), in one transaction. */
export function resolveOrphans(db: Database, running: readonly string[], hook: string | null, request: OrphanAction, now: number): OrphansResolved {
  const wrongTarget = moveTargetError(running, request);
  if (wrongTarget) throw new OrphanError(wrongTarget);
  const store = deliveryStore(db);
  return db
    .transaction(() => {
      const orphans = Object.keys(orphanedCounts(db, running));
      const wrongHook = orphanHookError(running, orphans, hook);
      if (wrongHook) throw new OrphanError(wrongHook);
      const result: OrphansResolved = { cancelled: {}, moved_to: request.action === "move" ? request.to : null, queued: 0 };
      for (const name of hook === null ? orphans : [hook]) {
        if (request.action === "move") result.queued += store.copyOpen(name, request.to, now);
        result.cancelled[name] = store.cancelOpen(name, now);
      }
      return result;
    })
    .immediate();
}
