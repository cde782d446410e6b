/**
 * `account_update`: one `account.update` per value. `data` keeps Meta's value as sent
 * (`event` and its companion object, as hooks had it before it was typed) and adds
 * each companion typed beside it, under a name of its own: `restrictions`,
 * `violation`, `ban`, `waba`, `disconnection`, `volume_tier` (null when not sent).
 * Meta's integers become ISO times; its human `waba_ban_date` stays as written (one in
 * unix seconds becomes an ISO time). The ban state and the connection are also notices
 * (accountNotice), judged by Meta's clock.
 */
import { z } from "zod";
import type { Notice } from "../domain/effects";
import { hashed, type NormalizedEvent, type Where } from "./normalized-event";
import { absent, lenientList, secondsToMs, unixSeconds, optionalText as text, optionalId as id } from "./primitives";

const object = <T extends z.ZodRawShape>(shape: T) => z.looseObject(shape).catch(absent).optional();
// Meta's "webhooks components" page shows the state as a list of one (["SCHEDULE_FOR_DISABLE"]), its reference as a string.
const banState = z.union([z.string(), z.array(z.unknown()).transform((l) => l.find((s): s is string => typeof s === "string"))]).catch(absent).optional();

// Meta documents a list; an object alone is read as a list of one rather than lost.
const oneOrMore = (v: unknown) => (v !== null && typeof v === "object" && !Array.isArray(v) ? [v] : v);
// "April 17, 2025" as Meta's reference writes it; unix seconds kept as an ISO time.
const banDate = z.union([z.string(), z.number().int().positive().transform((s) => new Date(s * 1000).toISOString())]).catch(absent).optional();

const AccountUpdate = z.looseObject({
  event: text,
  restriction_info: z.preprocess(oneOrMore, lenientList(z.looseObject({ restriction_type: text, expiration: unixSeconds, remediation: text }))),
  violation_info: object({ violation_type: text, remediation: text }),
  ban_info: object({ waba_ban_state: banState, waba_ban_date: banDate }),
  waba_info: object({ waba_id: id, owner_business_id: id, partner_app_id: id, solution_id: id }),
  disconnection_info: object({ reason: text, initiated_by: text }),
  volume_tier_info: object({ tier_update_time: unixSeconds, pricing_category: text, tier: text, effective_month: text, region: text }),
});
type AccountUpdate = z.infer<typeof AccountUpdate>;

const iso = (seconds: number | undefined) => {
  const ms = secondsToMs(seconds);
  return ms === null ? null : new Date(ms).toISOString();
};

export function accountUpdate(where: Where, value: Record<string, unknown>): NormalizedEvent {
  const a = AccountUpdate.parse(value);
  const event = hashed(where, "account.update", where.entryTime, { ...value, ...typedParts(a) }, value);
  const notice = accountNotice(a, where);
  if (notice) event.effects.push(notice);
  return event;
}

/** Events that connect or disconnect the account from this app: the latest by Meta's clock is its state. */
const CONNECTION_EVENTS = new Set(["ACCOUNT_OFFBOARDED", "ACCOUNT_RECONNECTED", "PARTNER_REMOVED", "PARTNER_ADDED", "ACCOUNT_DELETED"]);

/**
 * The account's ban state and connection as notices, judged by Meta's clock like a
 * template's status: a DISABLE retried after the later REINSTATE, or an OFFBOARDED
 * after the later RECONNECTED, is an event with `state_changed: false` and no alert.
 */
function accountNotice(a: AccountUpdate, where: Where): Notice | null {
  const event = a.event?.toUpperCase();
  if (!where.wabaId || !event) return null;
  const at = where.entryTime;
  if (event === "DISABLED_UPDATE" && a.ban_info?.waba_ban_state) return { kind: "notice", subject: "account", id: where.wabaId, attribute: "ban", value: a.ban_info.waba_ban_state.toUpperCase(), at, record: "always" };
  if (CONNECTION_EVENTS.has(event)) return { kind: "notice", subject: "account", id: where.wabaId, attribute: "connection", value: event, at, record: "always" };
  return null;
}

/** The typed companions; `event` stays Meta's word (an open enum: new events keep coming). */
function typedParts(a: AccountUpdate) {
  const { violation_info: v, ban_info: b, waba_info: w, disconnection_info: d, volume_tier_info: t } = a;
  return {
    event: a.event ?? null,
    restrictions: a.restriction_info?.map((r) => ({ type: r.restriction_type ?? null, expiration: iso(r.expiration), remediation: r.remediation ?? null })) ?? null,
    violation: v ? { type: v.violation_type ?? null, remediation: v.remediation ?? null } : null,
    ban: b ? { state: b.waba_ban_state ?? null, date: b.waba_ban_date ?? null } : null,
    waba: w ? { waba_id: w.waba_id ?? null, owner_business_id: w.owner_business_id ?? null, partner_app_id: w.partner_app_id ?? null, solution_id: w.solution_id ?? null } : null,
    disconnection: d ? { reason: d.reason ?? null, initiated_by: d.initiated_by ?? null } : null,
    volume_tier: t
      ? { tier_update_time: iso(t.tier_update_time), pricing_category: t.pricing_category ?? null, tier: t.tier ?? null, effective_month: t.effective_month ?? null, region: t.region ?? null }
      : null,
  };
}
