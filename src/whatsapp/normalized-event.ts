/**
 * One normalized event and the helpers every field's reader builds it with: where it
 * came from (field, account, entry time, number), its dedup key when Meta gives no id,
 * and the `webhook.unknown` anything unreadable becomes (never dropped).
 */
import type { StateEffect } from "../domain/effects";
import type { EventType } from "../events/types";
import { cutDeep, deeperThan, MAX_JSON_DEPTH } from "../util/json-depth";
import { sha256Hex, stableStringify } from "../util/stable-json";
import { secondsToMs } from "./primitives";

export interface NormalizedEvent {
  type: EventType;
  dedupKey: string;
  occurredAt: number | null; // unix ms
  wabaId: string | null;
  phoneNumberId: string | null;
  displayPhoneNumber: string | null;
  data: Record<string, unknown>;
  raw: unknown;
  effects: StateEffect[];
}

export interface Where {
  field: string;
  wabaId: string | null;
  entryTime: number | null;
  phoneNumberId: string | null;
  displayPhoneNumber: string | null;
}

/**
 * Reads one raw item. Too deep to process safely, or throwing: the item becomes a
 * webhook.unknown saying why, and the caller carries on with its siblings.
 */
export function guarded(where: Where, raw: unknown, read: () => NormalizedEvent): NormalizedEvent {
  if (deeperThan(raw)) return unknownEvent(where, raw, `nested deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return read();
  } catch (err) {
    return unknownEvent(where, raw, `unreadable: ${(err as Error).message}`);
  }
}

/** Each element of `value[key]`, read by `read` inside its own guard; a non-list is one unknown saying so. */
export function* eachItem(where: Where, value: unknown, key: string, read: (raw: Record<string, unknown>) => NormalizedEvent): Generator<NormalizedEvent> {
  const items = isRecord(value) ? value[key] : undefined;
  if (!Array.isArray(items)) return yield unknownEvent(where, value, items === undefined ? `${where.field} value without ${key}` : `${key} is not an array`);
  for (const raw of items) yield guarded(where, raw, () => (isRecord(raw) ? read(raw) : unknownEvent(where, raw, "item is not an object")));
}

export function unknownEvent(where: Where, raw: unknown, reason?: string): NormalizedEvent {
  const data: Record<string, unknown> = { field: where.field };
  const deep = deeperThan(raw);
  if (reason ?? deep) data.reason = reason ?? `nested deeper than ${MAX_JSON_DEPTH} levels`;
  // The envelope's serializing recurses: a value too deep for it is kept cut (the inbox has
  // it whole). Its key covers the whole value: two items that differ only below the cut stay two events.
  return base(where, "webhook.unknown", `hash:${hashOf(where, raw)}`, where.entryTime, data, deep ? cutDeep(raw) : raw, []);
}

export function base(where: Where, type: EventType, dedupKey: string, occurredAt: number | null, data: Record<string, unknown>, raw: unknown, effects: StateEffect[]): NormalizedEvent {
  return { type, dedupKey, occurredAt, wabaId: where.wabaId, phoneNumberId: where.phoneNumberId, displayPhoneNumber: where.displayPhoneNumber, data, raw, effects };
}

/** An event whose item carries no id of its own: keyed by hashOf. */
export function hashed(where: Where, type: EventType, occurredAt: number | null, data: Record<string, unknown>, raw: unknown, effects: StateEffect[] = [], timed = hasOwnTime(raw)): NormalizedEvent {
  return base(where, type, `hash:${hashOf(where, raw, timed)}`, occurredAt, data, raw, effects);
}

/**
 * The key of an item that carries no id of its own (account notices, preferences,
 * calls, unknowns): field, account, the entry's time, the business number of the
 * change (its metadata) and the item itself (its own timestamp included). A retry or
 * re-batch repeats all of these; a real repeat — a template paused again, a second PIN
 * change — comes with a later entry.time. An item with a time of its own (a call's
 * status, an opt-out, a group change, an ads event) is told from a real repeat by that
 * time: the entry's, which a re-batch into another POST may change, is left out. The
 * number matters where entries carry no time (`messages`, `user_preferences`): the
 * same error or opt-out on two numbers of one account is two occurrences. A change
 * without a number keeps the key it always had. An item whose time sits elsewhere than a
 * top-level `timestamp` (a state sync's `metadata.timestamp`) says so with `timed`.
 */
export function hashOf(where: Where, value: unknown, timed = hasOwnTime(value)): string {
  const entryTime = timed ? "" : (where.entryTime ?? "");
  const number = where.phoneNumberId === null ? "" : `\n${where.phoneNumberId}`;
  return sha256Hex(`${where.field}\n${where.wabaId ?? ""}\n${entryTime}\n${stableStringify(value)}${number}`);
}

const hasOwnTime = (value: unknown) => isRecord(value) && secondsToMs(value.timestamp) !== null;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
