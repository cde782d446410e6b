/**
 * Wake-ups between instances (LISTEN/NOTIFY), so that idle instances wait instead of
 * polling: ingestion notifies `wa_inbox` in the statement that commits webhooks,
 * processing notifies `wa_deliveries` in the transaction that stores deliveries (both
 * delivered on commit, to every instance, this one included). Bun's client keeps one
 * dedicated listening connection and subscribes again after it drops; notifications
 * sent meanwhile are lost, so every (re)subscription counts as a wake-up (the loops then
 * look for work they may have missed). The loops still look every few seconds whatever
 * happens (retries come due with no notification).
 */
import type { SQL } from "bun";

export const INBOX_CHANNEL = "wa_inbox";
export const DELIVERIES_CHANNEL = "wa_deliveries";

export async function listenForWork(sql: SQL, on: { inbox: () => void; deliveries: () => void }) {
  const subscriptions = await Promise.all([sql.listen(INBOX_CHANNEL, on.inbox, on.inbox), sql.listen(DELIVERIES_CHANNEL, on.deliveries, on.deliveries)]);
  return { close: async () => void (await Promise.all(subscriptions.map((s) => s.unlisten()))) };
}
