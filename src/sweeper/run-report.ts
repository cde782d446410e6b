/**
 * What a job run did, in words for its log line, or null when it did nothing: a run
 * that did nothing is logged at debug, so the default schedules (a sweep every 30 s,
 * SMS outcomes and alerts every few seconds) do not fill the log with idle runs.
 */
import { plural } from "../util/plural";

type Result = Record<string, unknown>;

const count = (result: Result, key: string) => (typeof result[key] === "number" ? (result[key] as number) : 0);

/** "2 sent, 1 retrying": the keys whose count is not zero, in the order given; "" when all are. */
const counts = (result: Result, keys: readonly string[]) =>
  keys
    .filter((k) => count(result, k) > 0)
    .map((k) => `${count(result, k)} ${k}`)
    .join(", ");

const said = (what: string, list: string) => (list === "" ? null : `${what} ${list}`);

/** Retention's result keys that are not rows deleted. */
const RETENTION_STATE = ["freed_pages", "free_pages_left"];

export function runReport(job: string, result: Result): string | null {
  switch (job) {
    case "stale":
      // A held run decides nothing: the hold is logged when it starts and when it ends.
      if (result.held === true || count(result, "stale") === 0) return null;
      return `${plural(count(result, "stale"), "message")} past the deadline: ${count(result, "pending")} to SMS, ${count(result, "settled")} settled without one`;
    case "fallback":
      return said("SMS", counts(result, ["sent", "failed", "unknown", "retrying"]));
    case "alerts":
      return said("alerts", counts(result, ["sent", "retrying", "dead"]));
    case "retention": {
      const rows = Object.keys(result).filter((k) => typeof result[k] === "number" && !RETENTION_STATE.includes(k));
      const freed = count(result, "freed_pages");
      return [said("deleted", counts(result, rows)), freed > 0 && `freed ${freed} pages`].filter((s) => typeof s === "string").join("; ") || null;
    }
    default:
      return said("did", counts(result, Object.keys(result)));
  }
}
