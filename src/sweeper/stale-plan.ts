/**
 * Decides a batch of the `stale` sweep in pure code: for each tracked message past its
 * deadline, its message.stale event, the fallback decision (sweeper/transitions.ts), the
 * timeline moves, the SMS row and, when no SMS follows, its message.fallback event. The
 * engine (engine/sweeper.ts) writes the batch as sets; the order of the events is the
 * order in which the messages one at a time would have raised them.
 */
import type { DueRow } from "../domain/tracked";
import type { SweepWrites } from "../engine/sweeper";
import type { PlanEvent } from "../events/raise";
import { isoOrNull } from "../util/time";
import { fallbackEvent } from "./fallback-event";
import { decideFallback, type Settings } from "./transitions";

export interface StalePlan {
  writes: SweepWrites;
  /** Messages decided (all of the batch), and how many of them now wait for their SMS. */
  stale: number;
  pending: number;
  /** Decisions that send nothing, with the id of the event that reports each (logged once, when that event is new). */
  notSent: { wamid: string; state: string; why: string; eventId: string }[];
}

export function planStale(due: readonly DueRow[], now: number, settings: Settings, event: PlanEvent): StalePlan {
  const writes: SweepWrites = { decisions: [], moves: [], sends: [], events: [], deliveries: [] };
  const plan: StalePlan = { writes, stale: due.length, pending: 0, notSent: [] };
  const raise = (...args: Parameters<PlanEvent>) => {
    const { row, hooks } = event(...args);
    writes.events.push(row);
    for (const hook of hooks) writes.deliveries.push({ eventId: row.id, hook });
    return row.id;
  };
  for (const { registered, ...row } of due) {
    const deadline = isoOrNull(row.deadline);
    raise("message.stale", { wamid: row.wamid, to: row.recipient, category: row.category, deadline, sent_at: isoOrNull(row.sent_at) }, `stale:${row.wamid}`, now, row.phone_number_id);
    const decision = decideFallback(row, "stale", row.error_code, now, settings, registered);
    const next = decision.row;
    writes.decisions.push({ wamid: next.wamid, state: next.state, reason: next.reason, error_code: next.error_code });
    const detail = decision.why ? { why: decision.why } : { reason: "stale", error_code: row.error_code };
    writes.moves.push({ wamid: row.wamid, state: "stale", detail: JSON.stringify({ deadline }) }, { wamid: row.wamid, state: next.state, detail: JSON.stringify(detail) });
    if (next.state === "fallback_pending") plan.pending++;
    if (decision.text && next.recipient) {
      const shadow = next.state === "shadowed";
      writes.sends.push({ wamid: next.wamid, state: shadow ? "shadow" : "pending", recipient: next.recipient, text: decision.text, reason: "stale", error_code: next.error_code, category: next.category });
      // A tracked message has no SMS row yet (one is made only with the decision that ends `tracked`): this one is new.
      if (shadow) {
        const { data, key } = fallbackEvent(next, "shadow", { provider_status: null, attempts: 0 });
        raise("message.fallback", data, key, now, next.phone_number_id);
      }
    } else if (next.state !== "fallback_pending") {
      const { data, key } = fallbackEvent(next, "not_sent", null, decision.why);
      plan.notSent.push({ wamid: next.wamid, state: next.state, why: decision.why!, eventId: raise("message.fallback", data, key, now, next.phone_number_id) });
    }
  }
  return plan;
}
