/**
 * A user's business-scoped id (BSUID) changed: the `user_id_update` field's items, and
 * the `system` message of type `user_changed_user_id`. Both become `user.id_changed`
 * with the previous and current ids.
 */
import { z } from "zod";
import type { StateEffect } from "../domain/effects";
import type { IdKind, NamedId } from "../domain/identity";
import type { InboundMessage } from "./messages";
import { contactNaming } from "./message-data";
import { base, eachItem, hashed, type NormalizedEvent, type Where } from "./normalized-event";
import { absent, phoneText, secondsToMs, unixSeconds, optionalText as text } from "./primitives";

const Pair = z.looseObject({ previous: text, current: text }).catch(absent).optional();

const UserIdUpdate = z.looseObject({
  wa_id: phoneText.catch(absent).optional(),
  detail: text,
  user_id: Pair,
  parent_user_id: Pair,
  timestamp: unixSeconds,
});

const SystemChange = z.looseObject({ type: z.literal("user_changed_user_id"), wa_id: phoneText.catch(absent).optional(), user_id: text, parent_user_id: text });

const pair = (p: { previous?: string; current?: string } | undefined) => ({ previous: p?.previous ?? null, current: p?.current ?? null });

export function* normalizeUserIdUpdates(where: Where, value: unknown): Generator<NormalizedEvent> {
  yield* eachItem(where, value, "user_id_update", (raw) => {
    const u = UserIdUpdate.safeParse(raw).data ?? {};
    const data = { wa_id: u.wa_id ?? null, user_id: pair(u.user_id), parent_user_id: pair(u.parent_user_id), detail: u.detail ?? null };
    const at = secondsToMs(u.timestamp) ?? where.entryTime;
    // The user's contacts[] entry beside the changes (profile name): in no other event.
    const contact = contactNaming(value, [u.wa_id, data.user_id.previous, data.user_id.current]);
    return hashed(where, "user.id_changed", at, contact ? { ...data, contact } : data, raw, identityEffects(data, at));
  });
}

/**
 * The system message's own event beside its message.received: the sender's ids are the
 * previous ones, the system part's the current ones. Keyed by the message's wamid.
 */
export function systemUserIdChange(where: Where, m: InboundMessage): NormalizedEvent | null {
  const s = SystemChange.safeParse(m.system).data;
  if (!s) return null;
  const from = (m as { from_parent_user_id?: unknown }).from_parent_user_id;
  const data = {
    wa_id: s.wa_id || m.from || null,
    user_id: { previous: m.from_user_id ?? null, current: s.user_id ?? null },
    parent_user_id: { previous: typeof from === "string" ? from : null, current: s.parent_user_id ?? null },
    detail: null,
  };
  const at = secondsToMs(m.timestamp);
  return base(where, "user.id_changed", `user_id:${m.id}`, at ?? where.entryTime, data, m.system, identityEffects(data, at));
}

type Change = { wa_id: string | null; user_id: { previous: string | null; current: string | null }; parent_user_id: { previous: string | null; current: string | null } };

/** The change's ids are one person (the number is theirs, not changed); each current id becomes theirs by Meta's clock. */
function identityEffects(c: Change, at: number | null): StateEffect[] {
  const ids: NamedId[] = [];
  const add = (id: string | null, kind: IdKind, current: boolean) => void (id && ids.push({ id, kind, current }));
  add(c.wa_id, "wa_id", false);
  add(c.user_id.previous, "user_id", false);
  add(c.user_id.current, "user_id", true);
  add(c.parent_user_id.previous, "parent_user_id", false);
  add(c.parent_user_id.current, "parent_user_id", true);
  return ids.length > 1 ? [{ kind: "identity", link: { ids, at } }] : [];
}
