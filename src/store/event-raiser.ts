/** The SQLite engine's raiser of the daemon's own events (events/raise.ts plans them), in the caller's transaction. */
import type { Database } from "bun:sqlite";
import type { HookRoute } from "../config/schema";
import { eventPlanner, type RaiseEvent } from "../events/raise";
import { eventIds } from "./event-ids";
import { eventStore } from "./event-store";

export function eventRaiser(db: Database, hooks: readonly HookRoute[]): RaiseEvent {
  const plan = eventPlanner(eventIds(db), hooks);
  const events = eventStore(db);
  return (type, data, dedupKey, now, phoneNumberId = null) => {
    const { row, hooks: to } = plan(type, data, dedupKey, now, phoneNumberId);
    // Raised once per occurrence, even if the step that raises it runs again.
    if (!events.claimDedupKey(dedupKey, row.id, now)) return null;
    events.insertEvent(row);
    for (const hook of to) events.insertDelivery(row.id, hook, now);
    return row.id;
  };
}
