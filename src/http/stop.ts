/**
 * Stops the HTTP server for a graceful shutdown without letting one stalled client
 * hold it up: stop accepting, let every request that can finish finish, and after a
 * short grace close whatever is still idle or incomplete (a client stalled in its
 * headers or body was never going to get a 200; Meta retries it). A request whose
 * body is complete is never cut: its commit and answer come first.
 */
import type { Server } from "bun";

export const STOP_GRACE_MS = 1_000;
const POLL_MS = 25;

export interface AnswerCounter {
  /** Requests whose body is complete and whose answer is not yet sent. */
  readonly answering: number;
}

export async function stopServer(server: Server<unknown>, requests: AnswerCounter, graceMs = STOP_GRACE_MS): Promise<{ forced: number }> {
  let stopped = false;
  const done = server.stop(false).then(() => (stopped = true));
  const start = Date.now();
  while (!stopped) {
    if (Date.now() - start >= graceMs && requests.answering === 0) {
      const forced = server.pendingRequests;
      await server.stop(true);
      await done;
      return { forced };
    }
    await Bun.sleep(POLL_MS);
  }
  return { forced: 0 };
}

/** Counts requests between "body complete" and "answered". */
export class RequestTracker implements AnswerCounter {
  #answering = 0;

  get answering(): number {
    return this.#answering;
  }

  async answer<T>(work: () => Promise<T>): Promise<T> {
    this.#answering++;
    try {
      return await work();
    } finally {
      this.#answering--;
    }
  }
}
