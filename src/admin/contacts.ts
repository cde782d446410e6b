/** GET /v1/contacts/{wa_id} (profile, opt-out, last seen, recent messages) and DELETE (erasure). */
import type { Database } from "bun:sqlite";
import { contactStore } from "../store/contact-store";
import { isoOrNull } from "../util/time";
import { erasePerson } from "../whatsapp/erase";
import { notFound, ok, type AdminAnswer } from "./answers";

const RECENT = 20;
const normalize = (waId: string) => waId.replace(/^\+/, "");

export function getContact(db: Database, rawWaId: string): AdminAnswer {
  const waId = normalize(rawWaId);
  const store = contactStore(db);
  if (!store.known(waId)) return notFound(`no contact ${waId}`);
  const c = store.get(waId);
  return ok({
    wa_id: waId,
    profile_name: c?.profile_name ?? null,
    marketing_opt_out: c?.marketing_opt_out === 1,
    last_seen_at: isoOrNull(c?.last_seen_at ?? null),
    updated_at: isoOrNull(c?.updated_at ?? null),
    recent_messages: store.recent(waId, RECENT).map((m) => ({ wamid: m.wamid, direction: m.direction, [m.direction === "inbound" ? "kind" : "status"]: m.kind_or_status, at: isoOrNull(m.at) })),
  });
}

export function eraseContact(db: Database, rawWaId: string, now: number): AdminAnswer {
  const waId = normalize(rawWaId);
  const store = contactStore(db);
  const erased = db
    .transaction(() => (store.known(waId) ? store.erase(waId, (body) => erasePerson(body, waId), now) : null))
    .immediate();
  if (erased === null) return notFound(`no contact ${waId}`);
  return ok({ wa_id: waId, erased });
}
