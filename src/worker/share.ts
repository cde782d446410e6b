/**
 * How much of the writer thread the worker may take while webhooks are arriving.
 * Ingestion comes first: a burst is acknowledged at close to full speed while the
 * worker keeps a tenth of the thread. But a fixed small share lets the backlog grow
 * without bound under a steady load above it, so once the oldest waiting job is
 * SHARE_GROWS_FROM_MS old the share grows with its age, up to four fifths at
 * SHARE_FULL_AT_MS. A burst shorter than the knee never slows ingestion; a sustained
 * load settles where the share keeps up, a few seconds past the knee. Pure, so it is
 * unit-tested.
 */
export const MIN_SHARE = 0.1;
export const MAX_SHARE = 0.8;
export const SHARE_GROWS_FROM_MS = 3_000;
export const SHARE_FULL_AT_MS = 8_000;

export function workerShare(backlogAgeMs: number): number {
  const over = Math.max(0, backlogAgeMs - SHARE_GROWS_FROM_MS);
  const grown = Math.min(1, over / (SHARE_FULL_AT_MS - SHARE_GROWS_FROM_MS));
  return MIN_SHARE + (MAX_SHARE - MIN_SHARE) * grown;
}

/** The pause after a pass that took `workedMs`, so that work / (work + pause) = share. */
export function pauseAfter(workedMs: number, share: number): number {
  return Math.max(1, (workedMs * (1 - share)) / share);
}

/**
 * The scheduled jobs' share of the writer thread while webhooks arrive (a sweep of
 * 10,000 overdue messages, rounds of SMS outcomes, retention's deletes): a job gives
 * way after each step, so an inbox commit never waits behind more than one step.
 */
export const JOB_SHARE = 0.5;

/** Called by a job after each step with how long the step took. */
export type GiveWay = (workedMs: number) => Promise<void>;

export const giveWayTo = (ingesting: () => boolean): GiveWay => (workedMs) => Bun.sleep(ingesting() ? pauseAfter(workedMs, JOB_SHARE) : 0);
