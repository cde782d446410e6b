/**
 * Outbound message state: statuses only move forward, whatever order they arrive in.
 *
 *   sent < failed < delivered < read ≤ played
 *
 * `failed` beats `sent` but is overridden by any proof of delivery (a delivered/read
 * status, earlier or later); a late `delivered` after `read` does not regress. Because
 * the next state is the maximum of the ranks seen, every arrival order of the same
 * statuses ends in the same state. Unknown statuses are recorded but never move it.
 */
const RANK: Record<string, number> = { sent: 1, failed: 2, delivered: 3, read: 4, played: 5 };

export function statusRank(status: string): number {
  return RANK[status] ?? 0;
}

/** A status as a metric label: Meta's own, else `other` (label values are bounded; "unknown" is the state of a message never seen with one of Meta's). */
export function statusLabel(status: string): string {
  return statusRank(status) > 0 || status === "unknown" ? status : "other";
}

/** The message's state after `incoming` arrives while it was `current` (null: never seen). */
export function nextStatus(current: string | null, incoming: string): string {
  if (current === null) return statusRank(incoming) > 0 ? incoming : "unknown";
  return statusRank(incoming) > statusRank(current) ? incoming : current;
}
