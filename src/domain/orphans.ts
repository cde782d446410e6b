/**
 * Orphaned deliveries: open deliveries (pending, delivering, dead, disabled) of a hook
 * the daemon no longer runs (removed or renamed in its config). No dispatcher sends
 * them and retention would keep their events forever, so the operator cancels them
 * (state `cancelled`: finished, like done) or moves them to a hook the daemon runs.
 * What is asked and what is refused, for both engines (pure); the engines do it
 * (store/requeue-store.ts, store/postgres/requeue-store.ts).
 */

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

/** What the start or a reload says of each hook no longer run that still has open deliveries (both engines). */
export function orphanWarnings(open: Readonly<Record<string, Readonly<Record<string, number>>>>, running: readonly string[]) {
  return Object.entries(open)
    .filter(([hook]) => !running.includes(hook))
    .map(([hook, states]) => ({
      msg: "deliveries of a hook the daemon no longer runs: nothing sends them",
      fields: {
        hook,
        deliveries: Object.values(states).reduce((a, b) => a + b, 0),
        states,
        hint: "wa-webhookd orphans --config FILE --cancel (or --move-to HOOK), or POST /v1/deliveries/orphaned",
      },
    }));
}
