/**
 * Sizes of the reliability cases. `make reliability` runs them at the full size
 * (RELIABILITY=full); `make test` (and CI) runs the same cases smaller, so each stays
 * within seconds. Every case prints what it did and its figures.
 */
export const FULL = process.env.RELIABILITY === "full";

export const size = <T>(ci: T, full: T): T => (FULL ? full : ci);

export function report(name: string, figures: Record<string, unknown>) {
  console.log(`[reliability] ${name}${FULL ? "" : " (CI size)"}: ${JSON.stringify(figures)}`);
}
