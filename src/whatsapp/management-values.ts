/**
 * Management fields whose whole `value` is one event, typed (2025–2026): a business
 * username's review, a number's settings, a partner solution, a payment configuration,
 * an account update.
 * Each part is read leniently: an odd one reads as null and stays in `raw`.
 */
import { z } from "zod";
import type { StateEffect } from "../domain/effects";
import { hashed, isRecord, unknownEvent, type NormalizedEvent, type Where } from "./normalized-event";
import { absent, secondsToMs, unixSeconds, optionalText as text, optionalId as id } from "./primitives";
import { accountUpdate } from "./account-update";
import { displayDigits } from "./phone";


const BusinessUsername = z.looseObject({ display_phone_number: id, username: text, status: text });

const Calling = z.looseObject({
  status: text,
  call_icon_visibility: text,
  callback_permission_status: text,
  call_hours: z.looseObject({}).catch(absent).optional(),
  sip: z.looseObject({}).catch(absent).optional(),
});
const AccountSettings = z.looseObject({
  type: text,
  timestamp: unixSeconds,
  phone_number_settings: z.looseObject({ phone_number_id: id, calling: Calling.catch(absent).optional() }).catch(absent).optional(),
});

const PartnerSolution = z.looseObject({ event: text, solution_id: id, solution_status: text });

const PaymentConfiguration = z.looseObject({
  configuration_name: text,
  provider_name: text,
  provider_mid: id,
  status: text, // "Needs Testing": words with spaces, as Meta sends them
  created_timestamp: unixSeconds,
  updated_timestamp: unixSeconds,
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

type Reader = (where: Where, value: Record<string, unknown>) => NormalizedEvent;

/**
 * The username and its status are state by Meta's clock, on the number (by its
 * display number: this field has no metadata). A deleted username comes without one.
 */
function businessUsername(where: Where, value: Record<string, unknown>): NormalizedEvent {
  const u = BusinessUsername.parse(value);
  const number = where.phoneNumberId ?? (u.display_phone_number ? displayDigits(u.display_phone_number) : null);
  const effects: StateEffect[] = [];
  if (number && u.status) {
    const notice = (attribute: "username" | "username_status", v: string | null) => ({ kind: "notice" as const, subject: "phone_number" as const, id: number, attribute, value: v, at: where.entryTime, record: "always" as const });
    effects.push(notice("username_status", u.status), notice("username", u.username ?? null));
  }
  return hashed(where, "business.username", where.entryTime, { username: u.username ?? null, status: u.status ?? null }, value, effects);
}

/** The settings name their number: the event is filed under it, as if it came in `metadata`. */
function accountSettings(where: Where, value: Record<string, unknown>): NormalizedEvent {
  const a = AccountSettings.parse(value);
  const settings = a.phone_number_settings;
  const phoneNumberId = where.phoneNumberId ?? settings?.phone_number_id ?? null;
  const c = settings?.calling;
  const calling = c
    ? { status: c.status ?? null, call_icon_visibility: c.call_icon_visibility ?? null, callback_permission_status: c.callback_permission_status ?? null, call_hours: c.call_hours ?? null, sip: c.sip ?? null }
    : null;
  const data = { phone_number_id: phoneNumberId, type: a.type ?? null, calling, settings: isRecord(value.phone_number_settings) ? value.phone_number_settings : null };
  return hashed({ ...where, phoneNumberId }, "account.settings", secondsToMs(a.timestamp) ?? where.entryTime, data, value);
}

function partnerSolution(where: Where, value: Record<string, unknown>): NormalizedEvent {
  const p = PartnerSolution.parse(value);
  return hashed(where, "partner.solution", where.entryTime, { solution_id: p.solution_id ?? null, event: p.event ?? null, solution_status: p.solution_status ?? null }, value);
}

function paymentConfiguration(where: Where, value: Record<string, unknown>): NormalizedEvent {
  const p = PaymentConfiguration.parse(value);
  const updated = secondsToMs(p.updated_timestamp);
  const data = {
    configuration_name: p.configuration_name ?? null,
    provider_name: p.provider_name ?? null,
    provider_mid: p.provider_mid ?? null,
    status: p.status ?? null,
    created_at: iso(secondsToMs(p.created_timestamp)),
    updated_at: iso(updated),
  };
  return hashed(where, "payment.configuration", updated ?? where.entryTime, data, value);
}

const READERS: Record<string, Reader> = {
  account_update: accountUpdate,
  business_username_update: businessUsername,
  account_settings_update: accountSettings,
  partner_solutions: partnerSolution,
  payment_configuration_update: paymentConfiguration,
};

/** The reader of a field typed here, or undefined (own properties only: "constructor" is no field). */
export function managementReader(field: string): ((where: Where, value: unknown) => NormalizedEvent) | undefined {
  if (!Object.hasOwn(READERS, field)) return undefined;
  const read = READERS[field]!;
  return (where, value) => (isRecord(value) ? read(where, value) : unknownEvent(where, value, "value is not an object"));
}
