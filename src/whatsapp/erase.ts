/**
 * Erasing one person from a webhook body (DELETE /v1/contacts/{wa_id}), whatever its
 * shape: every part that mentions their number (whatsapp/phone-mention.ts) goes, at
 * the smallest unit a webhook is made of, with the texts that came with it. An item
 * (a message, a status, a contact, a preference: an element of an array in a change's
 * value; in a history chunk, a thread); else the whole change (an unknown field's value);
 * else the whole entry.
 * Everyone else's items stay. Pure: body in, body out.
 */
import { parseJsonExact } from "../util/json";
import { deeperThan } from "../util/json-depth";
import type { Mentions } from "./phone-mention";

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The body without the parts that mention the person, `removed` counting them; the
 * body unchanged (removed 0) when it does not mention them. null when it does but no
 * part can be cut out (not JSON, not a webhook envelope, outside its entries, or nested
 * deeper than MAX_JSON_DEPTH): the whole body must go.
 */
export function erasePerson(body: string, mentions: Mentions): { body: string; removed: number } | null {
  if (!mentions(body)) return { body, removed: 0 };
  let payload: unknown;
  try {
    // A rewritten body keeps the digits of ids past 2^53 (as strings, like the events made from it).
    payload = parseJsonExact(body);
  } catch {
    return null;
  }
  if (!isObject(payload) || !Array.isArray(payload.entry)) return null;
  // Cutting and writing it back recurse: a body nested past that (someone's 100k-deep field) goes whole.
  if (deeperThan(payload)) return null;
  const mentioned = (part: unknown) => mentions(JSON.stringify(part));
  let removed = 0;
  /** `parts` without those that mention the person, each first trimmed by `trim`. */
  const keep = (parts: unknown[], trim: (part: unknown) => void) =>
    parts.filter((part) => {
      trim(part);
      if (!mentioned(part)) return true;
      removed++;
      return false;
    });
  const trimThreads = (chunk: unknown) => {
    if (isObject(chunk) && Array.isArray(chunk.threads)) chunk.threads = keep(chunk.threads, () => {});
  };
  payload.entry = keep(payload.entry, (entry) => {
    if (!isObject(entry) || !Array.isArray(entry.changes)) return;
    entry.changes = keep(entry.changes, (change) => {
      if (!isObject(change) || !isObject(change.value)) return;
      // A history chunk holds many people's conversations: its unit is the thread (one person's), not the chunk.
      const trim = change.field === "history" ? trimThreads : () => {};
      for (const [key, items] of Object.entries(change.value)) if (Array.isArray(items)) change.value[key] = keep(items, trim);
    });
  });
  return mentioned(payload) ? null : { body: JSON.stringify(payload), removed };
}
