/**
 * `messages` → `user_actions[]`: a user clicked a link in a marketing message
 * (`marketing_messages_link_click`). One `message.click` per action, keyed by Meta's
 * `click_id` (one per click) when it is there. The item does not name the user: the
 * value's `contacts[]` does, when it holds exactly one person.
 */
import { z } from "zod";
import type { SenderContact } from "./messages";
import { base, hashOf, type NormalizedEvent, type Where } from "./normalized-event";
import { absent, phoneText, secondsToMs, unixSeconds, optionalText as text, optionalId } from "./primitives";

const UserAction = z.looseObject({
  action_type: z.string(),
  timestamp: unixSeconds,
  from: phoneText.catch(absent).optional(),
  from_user_id: text,
  marketing_messages_link_click_data: z
    .looseObject({ click_component: text, product_id: optionalId, click_id: optionalId, tracking_token: text })
    .catch(absent)
    .optional(),
});

/** null when the item is not a user action (no action_type): the caller keeps it as unknown. */
export function clickEvent(where: Where, raw: unknown, contacts: SenderContact[]): NormalizedEvent | null {
  const parsed = UserAction.safeParse(raw);
  if (!parsed.success) return null;
  const a = parsed.data;
  const click = a.marketing_messages_link_click_data;
  const user = contacts.length === 1 ? contacts[0] : undefined;
  const data = {
    action_type: a.action_type,
    // "cta" in Meta's pages, "CTA" in a partner's: one spelling for filters.
    click_component: click?.click_component?.toLowerCase() ?? null,
    product_id: click?.product_id ?? null,
    click_id: click?.click_id ?? null,
    tracking_token: click?.tracking_token ?? null,
    from: a.from ?? user?.wa_id ?? null,
    from_user_id: a.from_user_id ?? user?.user_id ?? null,
  };
  const key = click?.click_id ? `click:${click.click_id}` : `hash:${hashOf(where, raw)}`;
  return base(where, "message.click", key, secondsToMs(a.timestamp) ?? where.entryTime, data, raw, []);
}
