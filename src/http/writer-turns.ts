/**
 * Turns on the writer thread for work that is not on the ack path (the event stream's
 * batches): one call at a time, each followed by a pause as long as it took. However
 * many clients wait, an inbox commit queues behind at most one such call, and all of
 * them together take at most half of the thread.
 */
export function writerTurns() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(call: () => Promise<T>): Promise<T> => {
    let tookMs = 0;
    const result = tail.then(async () => {
      const started = performance.now();
      try {
        return await call();
      } finally {
        tookMs = performance.now() - started;
      }
    });
    const pause = () => Bun.sleep(tookMs);
    tail = result.then(pause, pause);
    return result;
  };
}
