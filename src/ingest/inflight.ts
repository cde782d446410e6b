/**
 * A cap on the request bytes held in memory at once, across every request in
 * flight. Bodies must be buffered before their signature can be checked, so an
 * unauthenticated client could otherwise hold memory at will (many slow uploads).
 * Past the cap a request is refused before its body is read.
 *
 * Bytes reserved before they arrive (a small body read in one call) come from a
 * quarter of the cap: ~1,100 connections declaring 64 KiB and sending nothing filled
 * the whole cap, and every real webhook was a 503 until body_timeout. Past that
 * quarter a body is counted as its bytes arrive, so an idle one holds nothing.
 */
export class InflightBudget {
  #used = 0;
  /** Of #used, the bytes reserved ahead that have not arrived yet. */
  #ahead = 0;
  readonly aheadLimitBytes: number;

  constructor(readonly limitBytes: number) {
    this.aheadLimitBytes = Math.floor(limitBytes / 4);
  }

  /** A per-request holder: take() as bytes arrive, release() once, when the request is done. */
  lease(): InflightLease {
    let held = 0;
    let ahead = 0;
    let until: Promise<unknown> | null = null;
    const free = () => {
      this.#used -= held;
      this.#ahead -= ahead;
      held = 0;
      ahead = 0;
    };
    const take = (bytes: number) => {
      if (this.#used + bytes > this.limitBytes) return false;
      this.#used += bytes;
      held += bytes;
      return true;
    };
    return {
      take,
      reserve: (bytes: number) => {
        if (this.#ahead + bytes > this.aheadLimitBytes || !take(bytes)) return false;
        this.#ahead += bytes;
        ahead += bytes;
        return true;
      },
      arrived: () => {
        this.#ahead -= ahead;
        ahead = 0;
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
  /** `take`, for bytes not arrived yet: false (nothing taken) past the cap or past its quarter for such bytes. */
  reserve(bytes: number): boolean;
  /** What was reserved has arrived: it no longer counts against the quarter (it is still held). */
  arrived(): void;
  /** The memory stays in use until `settled` (a body read that outlives its request). */
  holdUntil(settled: Promise<unknown>): void;
  release(): void;
}
