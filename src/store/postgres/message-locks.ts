/**
 * One transaction-level advisory lock per outbound message, shared by everything that
 * moves its state: a processing batch's statuses (processing-engine.ts), the stale sweep,
 * the SMS sender's claims and outcomes, a registration. Taken in key order in one
 * statement, so two transactions never wait on each other in a cycle; released at commit.
 * PostgreSQL text holds no NUL: the parts are joined with a unit separator.
 */
import type { SQL } from "bun";

export const messageLockKey = (wamid: string) => `m\u001f${wamid}`;

/** Waits for the locks of these messages. */
export async function lockMessages(tx: SQL, wamids: readonly string[]): Promise<void> {
  if (wamids.length === 0) return;
  const keys = wamids.map(messageLockKey);
  await tx`SELECT count(pg_advisory_xact_lock(h)) FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest(${tx.array(keys, "TEXT")}::text[]) AS k ORDER BY 1) AS s`;
}

/** Takes the locks that are free now and answers those messages; one another transaction holds is skipped (like SKIP LOCKED). */
export async function tryLockMessages(tx: SQL, wamids: readonly string[]): Promise<string[]> {
  if (wamids.length === 0) return [];
  const rows = await tx`SELECT w FROM unnest(${tx.array([...wamids], "TEXT")}::text[]) AS w WHERE pg_try_advisory_xact_lock(hashtextextended(${"m\u001f"} || w, 0))`;
  return rows.map((r: { w: string }) => r.w);
}
