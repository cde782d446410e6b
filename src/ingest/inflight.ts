/**
 * A cap on the request bytes held in memory at once, across every request in
 * flight. Bodies must be buffered before their signature can be checked, so an
 * unauthenticated client could otherwise hold memory at will (many slow uploads).
 * Past the cap a request is refused before its body is read.
 */
export class InflightBudget {
  #used = 0;

  constructor(readonly limitBytes: number) {}

  /** A per-request holder: take() as bytes arrive, release() once, when the request is done. */
  lease(): InflightLease {
    let held = 0;
    let until: Promise<unknown> | null = null;
    const free = () => {
      this.#used -= held;
      held = 0;
    };
    return {
      take: (bytes: number) => {
        if (this.#used + bytes > this.limitBytes) return false;
        this.#used += bytes;
        held += bytes;
        return true;
      },
      holdUntil: (settled: Promise<unknown>) => {
        until = settled;
      },
      release: () => {
        if (until) void until.then(free, free);
        else free();
      },
    };
  }
}

export interface InflightLease {
  /** Accounts for `bytes` more; false (nothing taken) when that would pass the cap. */
  take(bytes: number): boolean;
  /** The memory stays in use until `settled` (a body read that outlives its request). */
  holdUntil(settled: Promise<unknown>): void;
  release(): void;
}
