/**
 * At most `limit` log lines per key (a rejection's status and reason) in each window;
 * the rest are counted and said in one line when the window is over. Anyone can send
 * bad requests: a line for each of 40,000 a second would flood the journal, and its
 * rate limit would then drop the lines that matter. Pure but for the clock.
 */
export class LogBudget {
  #window = -1;
  readonly #seen = new Map<string, number>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /**
   * Whether the line for `key` may be written now. `ended`: the lines left out in the
   * window that just ended, by key (null when none were), to be said before this one.
   */
  admit(key: string, now: number): { write: boolean; ended: Record<string, number> | null } {
    const ended = this.#roll(now);
    const n = (this.#seen.get(key) ?? 0) + 1;
    this.#seen.set(key, n);
    return { write: n <= this.limit, ended };
  }

  /** The lines left out in a window that is over by `now` (null when none); for a timer, when no line comes. */
  flush(now: number): Record<string, number> | null {
    return this.#roll(now);
  }

  #roll(now: number): Record<string, number> | null {
    const window = Math.floor(now / this.windowMs);
    if (window === this.#window) return null;
    const over = [...this.#seen].filter(([, n]) => n > this.limit);
    this.#window = window;
    this.#seen.clear();
    return over.length > 0 ? Object.fromEntries(over.map(([key, n]) => [key, n - this.limit])) : null;
  }
}
