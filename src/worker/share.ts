/**
 * How much of the writer thread the worker may take while webhooks are arriving.
 * Ingestion comes first, but a fixed small share lets the backlog grow without bound
 * under a steady load above it; so the share grows with the age of the oldest job
 * waiting: a quarter of the thread when the worker is keeping up, up to four fifths
 * once work has waited SHARE_FULL_AT_MS. Pure, so it is unit-tested.
 */
export const MIN_SHARE = 0.25;
export const MAX_SHARE = 0.8;
export const SHARE_FULL_AT_MS = 5_000;

export function workerShare(backlogAgeMs: number): number {
  const grown = Math.min(1, Math.max(0, backlogAgeMs) / SHARE_FULL_AT_MS);
  return MIN_SHARE + (MAX_SHARE - MIN_SHARE) * grown;
}

/** The pause after a pass that took `workedMs`, so that work / (work + pause) = share. */
export function pauseAfter(workedMs: number, share: number): number {
  return Math.max(1, (workedMs * (1 - share)) / share);
}
