/** The SQLite engine for dispatch (engine/dispatch.ts). */
import type { Database } from "bun:sqlite";
import type { RecordedOutcome } from "../domain/delivery";
import type { DispatchEngine } from "../engine/dispatch";
import { deliveryStore } from "./delivery-store";
import { durability } from "./durability";
import { statsStore } from "./stats-store";

export function sqliteDispatch(db: Database): DispatchEngine {
  const deliveries = deliveryStore(db);
  const stats = statsStore(db);
  const { replayable, settle } = durability(db);
  const newest = db.prepare<{ id: number }, []>("SELECT coalesce(max(id), 0) AS id FROM deliveries");

  /** Writes the outcomes whose lease holds, with the per-minute count of deliveries done. */
  function record(outcomes: readonly RecordedOutcome[], given?: (o: RecordedOutcome) => void): number {
    const recorded = deliveries.record(outcomes);
    const done = new Map<string, { hook: string; at: number; n: number }>();
    for (const o of outcomes) {
      if (!recorded.has(o.id)) continue; // its lease was lost: another run has it now
      if (o.outcome.state === "done") {
        const key = `${o.hook}\u0000${Math.floor(o.at / 60_000)}`;
        const d = done.get(key) ?? done.set(key, { hook: o.hook, at: o.at, n: 0 }).get(key)!;
        d.n++;
      } else if (o.outcome.state === "dead" || o.outcome.state === "disabled") given?.(o);
    }
    for (const d of done.values()) stats.add("delivered", d.at, d.hook, d.n);
    return recorded.size;
  }

  const turn = db.transaction((outcomes: readonly RecordedOutcome[], claims: Parameters<DispatchEngine["turn"]>[1], now: number, through: number, given?: (o: RecordedOutcome) => void) => ({
    recorded: record(outcomes, given),
    claimed: claims.map((c) => deliveries.claim(c.hook, c.token, c.leaseUntil, now, c.limit, through)),
  }));
  const flush = db.transaction((outcomes: readonly RecordedOutcome[], unstarted: readonly { id: number; token: string }[], given?: (o: RecordedOutcome) => void) => {
    for (const u of unstarted) deliveries.release(u.id, u.token);
    return record(outcomes, given);
  });

  // Each call settles before it returns: `async` only wraps the answer (and a throw) in a promise.
  return {
    // Only deliveries on disk are claimed: stored by relaxed commits, they wait for the WAL's fdatasync
    // (off the thread, so processing goes on meanwhile); those stored during it wait for the next turn.
    // The turn's own commit can be lost to a power cut: its deliveries are then sent again, same webhook-id.
    turn: async (outcomes, claims, now, given) => {
      const through = (await settle(() => newest.get()!.id)) ?? Number.MAX_SAFE_INTEGER;
      return replayable(() => turn.immediate(outcomes, claims, now, through, given));
    },
    flush: async (outcomes, unstarted, given) => flush.immediate(outcomes, unstarted, given),
    recoverLeases: async (instance, now) => deliveries.recoverLeases(instance, now),
  };
}
