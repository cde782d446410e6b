/**
 * Runs `work` with a signal that aborts with a TimeoutError after `ms`, and ends the
 * timer when `work` settles. AbortSignal.timeout's timer lives out its whole timeout
 * whatever the request does: at thousands of deliveries a second, each signal and
 * timer stayed alive for the hook's 15 s (thousands of them in the writer thread's
 * heap, every one in the timer heap).
 */
export async function withDeadline<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`no answer within ${ms} ms`, "TimeoutError")), ms);
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `work`'s answer, or `silent()`'s (a value, or a throw) if it has none within `ms`: for a
 * peer that may go silent without an error (packets dropped). `work` goes on unheeded.
 */
export async function answerWithin<T>(ms: number, work: Promise<T>, silent: () => T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const silence = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(silent());
      } catch (err) {
        reject(err);
      }
    }, ms);
  });
  try {
    return await Promise.race([work, silence]);
  } finally {
    clearTimeout(timer);
  }
}
