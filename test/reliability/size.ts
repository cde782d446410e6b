/**
 * Sizes of the reliability cases. `make reliability` runs them at the full size
 * (RELIABILITY=full); `make test` (and CI) runs the same cases smaller, so each stays
 * within seconds. Every case prints what it did and its figures.
 */
export const FULL = process.env.RELIABILITY === "full";

export const size = <T>(ci: T, full: T): T => (FULL ? full : ci);

/** On PostgreSQL (WA_TEST_ENGINE=postgres, test/support/engine.ts) each line says so. */
const ENGINE_TAG = process.env.WA_TEST_ENGINE === "postgres" ? " [postgres]" : "";

export function report(name: string, figures: Record<string, unknown>) {
  console.log(`[reliability] ${name}${ENGINE_TAG}${FULL ? "" : " (CI size)"}: ${JSON.stringify(figures)}`);
}
