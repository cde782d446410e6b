/**
 * Orphaned deliveries: open deliveries (pending, delivering, dead, disabled) of a hook
 * the daemon no longer runs (removed or renamed in its config). No dispatcher sends
 * them and retention would keep their events forever, so the operator cancels them
 * (state `cancelled`: finished, like done) or moves them to a hook the daemon runs.
 * Shared by `wa-webhookd orphans` and POST /v1/deliveries/orphaned.
 */
import type { Database } from "bun:sqlite";
import { deliveryStore } from "../store/delivery-store";
import { reportStore } from "../store/report-store";

export type OrphanAction = { action: "cancel" } | { action: "move"; to: string };

export interface OrphansResolved {
  /** Orphaned deliveries taken off their hook, per hook. */
  cancelled: Record<string, number>;
  /** With `move`: the hook they went to, and how many deliveries it got (fewer when it already had some of the events). */
  moved_to: string | null;
  queued: number;
}

/** A hook or target that does not fit: the message names what does. */
export class OrphanError extends Error {
  override name = "OrphanError";
}

const names = (list: readonly string[]) => list.join(", ") || "none";

/** A move to a hook no one runs, said (both engines); null when the target is run. */
export function moveTargetError(running: readonly string[], request: OrphanAction): string | null {
  if (request.action !== "move" || running.includes(request.to)) return null;
  return `to: the daemon runs no hook named "${request.to}" (it runs: ${names(running)})`;
}

/** A hook named that has no orphaned deliveries, said (both engines); null when it has some, or none is named. */
export function orphanHookError(running: readonly string[], orphans: readonly string[], hook: string | null): string | null {
  if (hook === null || orphans.includes(hook)) return null;
  const why = running.includes(hook) ? "the daemon runs it" : "it has no open deliveries";
  return `hook: "${hook}" has no orphaned deliveries: ${why} (hooks with orphaned deliveries: ${names(orphans)})`;
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
