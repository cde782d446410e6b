/** Which hooks get which events: globs on the type ("message.*", "*"), optional phone number ids. */
import type { Hook } from "../config/schema";

export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

export function hookWants(hook: Pick<Hook, "events" | "phone_number_ids">, type: string, phoneNumberId: string | null): boolean {
  if (!hook.events.some((g) => globToRegExp(g).test(type))) return false;
  if (hook.phone_number_ids.length === 0) return true;
  return phoneNumberId !== null && hook.phone_number_ids.includes(phoneNumberId);
}
