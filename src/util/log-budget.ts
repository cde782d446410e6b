import type { LogFields, Logger } from "./log";
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

/** Lines of a kind anyone can cause, per key (a status and reason) per minute; past it they are counted. */
export const LINES_PER_KEY_PER_MINUTE = 20;
const MINUTE_MS = 60_000;

/**
 * A logger's lines that anyone can cause (a request refused, a route not found, a write a
 * full disk refused): each key at most LINES_PER_KEY_PER_MINUTE a minute, the rest said in
 * one line (`msg` "log lines left out", `left_out` by key) when the minute is over.
 * One per logger, shared by everything that logs such lines through it.
 */
export class RateLimitedLog {
  readonly #budget = new LogBudget(LINES_PER_KEY_PER_MINUTE, MINUTE_MS);

  constructor(private readonly log: Logger) {
    setInterval(() => this.#sayLeftOut(this.#budget.flush(Date.now())), MINUTE_MS).unref();
  }

  warn(key: string, msg: string, fields: LogFields): void {
    if (this.#admit(key)) this.log.warn(msg, fields);
  }

  error(key: string, msg: string, fields: LogFields): void {
    if (this.#admit(key)) this.log.error(msg, fields);
  }

  #admit(key: string): boolean {
    const { write, ended } = this.#budget.admit(key, Date.now());
    this.#sayLeftOut(ended);
    return write;
  }

  #sayLeftOut(left: Record<string, number> | null) {
    if (left) this.log.warn("log lines left out", { per_minute: LINES_PER_KEY_PER_MINUTE, left_out: left });
  }
}

const limited = new WeakMap<Logger, RateLimitedLog>();

/** The logger's rate-limited lines (one budget per logger). */
export function rateLimited(log: Logger): RateLimitedLog {
  let r = limited.get(log);
  if (!r) limited.set(log, (r = new RateLimitedLog(log)));
  return r;
}
