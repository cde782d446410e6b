/**
 * One call at a time: callers that arrive while it runs share its answer instead of
 * starting their own. For public probes that cost a durable write each (/readyz): a flood
 * of concurrent requests costs one write per probe's duration, not one per request.
 */
export function sharedWhileRunning<T>(run: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | null = null;
  return () => {
    running ??= run().finally(() => {
      running = null;
    });
    return running;
  };
}
