/** One message as stored by the pipeline (outbound state, inbound record, every status), for GET /v1/messages/{wamid}. */
import type { Database } from "bun:sqlite";

export interface OutboundRecord {
  phone_number_id: string | null;
  recipient_id: string | null;
  status: string;
  status_at: number | null;
  errors: string | null;
  pricing: string | null;
  biz_opaque_callback_data: string | null;
  first_seen_at: number;
}

export interface InboundRecord {
  phone_number_id: string | null;
  kind: string;
  sent_at: number | null;
  received_at: number;
}

export interface StatusRecord {
  status: string;
  status_at: number | null;
  errors: string | null;
  pricing: string | null;
  event_id: string;
  received_at: number;
}

export function messageStore(db: Database) {
  const outbound = db.prepare<OutboundRecord, [string]>("SELECT phone_number_id, recipient_id, status, status_at, errors, pricing, biz_opaque_callback_data, first_seen_at FROM outbound_messages WHERE wamid = ?");
  const inbound = db.prepare<InboundRecord, [string]>("SELECT phone_number_id, kind, sent_at, received_at FROM inbound_messages WHERE wamid = ?");
  const statuses = db.prepare<StatusRecord, [string]>("SELECT status, status_at, errors, pricing, event_id, received_at FROM message_statuses WHERE wamid = ? ORDER BY id");
  return {
    find: (wamid: string) => ({ outbound: outbound.get(wamid), inbound: inbound.get(wamid), statuses: statuses.all(wamid) }),
  };
}
