/** An event as every engine stores it: its columns, and the envelope (events/envelope.ts) as JSON text. */
export interface EventRow {
  id: string;
  /** null: raised by the daemon itself (events/raise.ts), not by a webhook. */
  inboxId: number | null;
  type: string;
  occurredAt: number | null;
  receivedAt: number;
  wabaId: string | null;
  phoneNumberId: string | null;
  dedupKey: string;
  wamid: string | null;
  waId: string | null;
  envelope: string;
}
