import type { ConfigProblem } from "../config/load";

/** Config warnings on stderr, for the commands a person runs by hand (the daemon logs them). */
export function printWarnings(warnings: readonly ConfigProblem[]) {
  for (const w of warnings) process.stderr.write(`wa-webhookd: warning: ${w.key}: ${w.reason}\n`);
}
