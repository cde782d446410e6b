/**
 * What the dispatcher (forward/dispatcher.ts) asks of a storage engine, a turn at a
 * time: record the attempts that finished and claim the next deliveries of each hook,
 * in one transaction that is durable before anything claimed is sent.
 * store/dispatch-engine.ts is the SQLite engine, store/postgres/dispatch-engine.ts the
 * PostgreSQL one. Calls answer promises, like engine/processing.ts.
 */
import type { ClaimedDelivery, RecordedOutcome } from "../domain/delivery";

export interface ClaimRequest {
  hook: string;
  token: string;
  leaseUntil: number;
  limit: number;
}

export interface DispatchEngine {
  /**
   * Records `outcomes` (each only while its lease holds; deliveries done are counted per
   * hook and minute), runs `given` with the recorded ones given up (dead or disabled),
   * then claims due deliveries for each request, in its order.
   */
  turn(outcomes: readonly RecordedOutcome[], claims: readonly ClaimRequest[], now: number, given?: (outcome: RecordedOutcome) => void): Promise<{ recorded: number; claimed: ClaimedDelivery[][] }>;
  /** On stop: records the last outcomes and hands back claimed deliveries never attempted (attempt uncounted). */
  flush(outcomes: readonly RecordedOutcome[], unstarted: readonly { id: number; token: string }[], given?: (outcome: RecordedOutcome) => void): Promise<number>;
  /** Deliveries an earlier, crashed run of this instance had in flight are due again now. */
  recoverLeases(instance: string, now: number): Promise<number>;
}
