/** Which hooks get which events: globs on the type ("message.*", "*"), optional phone number ids. */
import type { HookRoute } from "../config/schema";
import { globMatcher } from "./type-glob";

export type HookFilter = (type: string, phoneNumberId: string | null) => boolean;

/** Compiles a hook's filters once; the result runs for every event on the processing path. */
export function hookFilter(hook: Pick<HookRoute, "events" | "phone_number_ids">): HookFilter {
  const types = hook.events.map(globMatcher);
  const numbers = new Set(hook.phone_number_ids);
  return (type, phoneNumberId) =>
    types.some((matcher) => matcher.test(type)) && (numbers.size === 0 || (phoneNumberId !== null && numbers.has(phoneNumberId)));
}
