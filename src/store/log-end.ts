/**
 * How far the inbox log holds webhooks durably: the newest acknowledged id, in memory
 * both threads share. The request thread publishes it after each append; the writer
 * thread waits for it to move and reads the new frames from the segment files itself
 * (store/log-reader.ts). One word instead of a message per batch: posting each batch's
 * frames cost the request thread ~4 µs per webhook (a wake-up of the writer per batch,
 * measured), and a wait here is woken once however many batches land meanwhile.
 */
export class LogEnd {
  /** [0]: the newest durable id; [1]: how many waits are in progress (a publish wakes only those). */
  readonly #slot: BigInt64Array;

  /** `shared` from another thread's LogEnd (its `buffer`), or a new one starting at `initial`. */
  constructor(shared: SharedArrayBuffer | number) {
    this.#slot = new BigInt64Array(typeof shared === "number" ? new SharedArrayBuffer(16) : shared);
    if (typeof shared === "number") Atomics.store(this.#slot, 0, BigInt(shared));
  }

  get buffer(): SharedArrayBuffer {
    return this.#slot.buffer as SharedArrayBuffer;
  }

  get id(): number {
    return Number(Atomics.load(this.#slot, 0));
  }

  /** Every webhook up to `id` is in the log, durably (ids only grow). */
  publish(id: number): void {
    Atomics.store(this.#slot, 0, BigInt(id));
    // A wake-up is a futex call (4.5% of the request thread's time, profiled): none while the
    // writer is busy. A wait counted before it checks the end either sees this store or is woken.
    if (Atomics.load(this.#slot, 1) > 0n) Atomics.notify(this.#slot, 0);
  }

  /** Resolves once the end is no longer `seen` (at once if it has moved already). */
  async movedFrom(seen: number): Promise<void> {
    Atomics.add(this.#slot, 1, 1n);
    try {
      const wait = Atomics.waitAsync(this.#slot, 0, BigInt(seen));
      if (wait.async) await wait.value;
    } finally {
      Atomics.sub(this.#slot, 1, 1n);
    }
  }
}
