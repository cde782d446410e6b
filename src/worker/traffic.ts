/**
 * The "traffic" summary line: what flowed since the last one. A line per request
 * would be 30k lines/s at peak, so info level gets counts every interval (only
 * while something happens) and per-item lines are debug only.
 */
import type { Logger } from "../util/log";

const COUNTERS = ["stored", "events", "duplicates", "delivered", "failed", "dead", "inbox_dead"] as const;
export type TrafficCounter = (typeof COUNTERS)[number];

export class TrafficMeter {
  #counts = TrafficMeter.#zero();
  #since = Date.now();

  static #zero(): Record<TrafficCounter, number> {
    return Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<TrafficCounter, number>;
  }

  add(counter: TrafficCounter, n = 1) {
    this.#counts[counter] += n;
  }

  /**
   * Logs the counts since the last report and how far processing lags behind
   * (`backlog_age_ms`: how long the oldest unprocessed webhook has waited), when
   * anything flowed or anything waits; then starts again from zero.
   */
  report(log: Logger, backlogAgeMs: number, now = Date.now()) {
    const counts = this.#counts;
    const seconds = Math.round((now - this.#since) / 100) / 10;
    this.#since = now;
    if (COUNTERS.every((c) => counts[c] === 0) && backlogAgeMs === 0) return;
    this.#counts = TrafficMeter.#zero();
    log.info("traffic", { ...counts, backlog_age_ms: backlogAgeMs, seconds });
  }
}
