/** message.fallback: what happened to the SMS leg of one message, once per outcome (its dedup key says once). */
import type { FallbackSendRow, TrackedRow } from "../domain/tracked";

export function fallbackEvent(row: TrackedRow, outcome: string, send: Pick<FallbackSendRow, "provider_status" | "attempts"> | null, why?: string) {
  const data = {
    wamid: row.wamid,
    to: row.recipient,
    reason: row.reason,
    error_code: row.error_code,
    category: row.category,
    outcome,
    state: row.state,
    provider_status: send?.provider_status ?? null,
    attempts: send?.attempts ?? 0,
    ...(why ? { why } : {}),
  };
  return { data, key: `fallback:${row.wamid}:${outcome}` };
}
