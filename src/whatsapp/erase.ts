/**
 * Erasing one person from a webhook body (DELETE /v1/contacts/{wa_id}): the items
 * about them (their messages, statuses sent to them, their contact card, their
 * preferences) are removed; everyone else's stay. Pure: body in, body out.
 */
const PERSON_KEYS = ["from", "to", "recipient_id", "wa_id", "recipient_participant_id"] as const;

type Json = Record<string, unknown>;

const isAbout = (item: unknown, waId: string) => typeof item === "object" && item !== null && PERSON_KEYS.some((k) => (item as Json)[k] === waId);

/** The body without that person's items, `removed` counting them; null when it is not a JSON webhook. */
export function erasePerson(body: string, waId: string): { body: string; removed: number } | null {
  let payload: unknown;
  try {
    payload = JSON.parse(body);
  } catch {
    return null;
  }
  const entries = (payload as { entry?: unknown }).entry;
  if (!Array.isArray(entries)) return null;
  let removed = 0;
  for (const entry of entries) {
    const changes = (entry as { changes?: unknown })?.changes;
    if (!Array.isArray(changes)) continue;
    for (const change of changes) {
      const value = (change as { value?: unknown })?.value;
      if (typeof value !== "object" || value === null) continue;
      for (const [key, items] of Object.entries(value as Json)) {
        if (!Array.isArray(items)) continue;
        const kept = items.filter((item) => !isAbout(item, waId));
        removed += items.length - kept.length;
        (value as Json)[key] = kept;
      }
    }
  }
  return { body: JSON.stringify(payload), removed };
}
