/**
 * A person whose number and user id changed several times (issue 22), as webhooks: the
 * `user_changed_number` system messages, the `user_id_update` notices, and one text
 * message from each number they had. Shared by the identity tests of both engines.
 */
import { METADATA } from "./webhooks";

export const WABA = "102290129340398";

export interface IdChange {
  kind: "number" | "user_id";
  /** Meta's time, unix seconds (distinct per change). */
  time: number;
  /** Position in its chain: it moves ids[step] → ids[step + 1]. */
  step: number;
}

export const phoneOf = (i: number) => `1650555${String(1000 + i)}`;
export const userIdOf = (i: number) => `US.1349120865530274${String(1000 + i)}`;

const messages = (...items: unknown[]) => ({ field: "messages", value: { messaging_product: "whatsapp", metadata: METADATA, messages: items } });

export function changeEntry(c: IdChange) {
  if (c.kind === "number") {
    const system = { body: `User A changed from ${phoneOf(c.step)} to ${phoneOf(c.step + 1)}`, wa_id: phoneOf(c.step + 1), type: "user_changed_number" };
    return { id: WABA, time: c.time, changes: [messages({ from: phoneOf(c.step), id: `wamid.NUMBER${c.step}`, timestamp: String(c.time), type: "system", system })] };
  }
  const update = { wa_id: phoneOf(0), detail: "User ID changed", user_id: { previous: userIdOf(c.step), current: userIdOf(c.step + 1) }, timestamp: c.time };
  return { id: WABA, time: c.time, changes: [{ field: "user_id_update", value: { messaging_product: "whatsapp", metadata: METADATA, user_id_update: [update] } }] };
}

/** A text message from a number, so that each id has events of its own. */
export const textFrom = (phone: string, n: number) => ({
  object: "whatsapp_business_account",
  entry: [{ id: WABA, time: 1_750_000_000, changes: [messages({ from: phone, id: `wamid.TEXT${n}`, timestamp: String(1_750_000_000 + n), type: "text", text: { body: "hello" } })] }],
});

/** The ids each chain went through, and the current one of each: the `current` of the newest change by Meta's clock. */
export function expectedIdentity(changes: readonly IdChange[]) {
  const chain = (kind: IdChange["kind"], idOf: (i: number) => string) => {
    const mine = changes.filter((c) => c.kind === kind);
    if (mine.length === 0) return { ids: [], current: null };
    const ids = mine.flatMap((c) => [idOf(c.step), idOf(c.step + 1)]);
    const newest = mine.reduce((a, b) => (b.time > a.time ? b : a));
    return { ids: [...new Set(ids)], current: idOf(newest.step + 1) };
  };
  const phones = chain("number", phoneOf);
  const users = chain("user_id", userIdOf);
  // A user id change names the first number as the person's: it is theirs too.
  const ids = [...new Set([...phones.ids, ...users.ids, ...(users.ids.length > 0 ? [phoneOf(0)] : [])])].sort();
  return { ids, wa_id: phones.current ?? (ids.includes(phoneOf(0)) ? phoneOf(0) : null), user_id: users.current };
}
