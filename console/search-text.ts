/** What the console's search box was given (pure: no DOM, tested on its own). */
import { personId } from "../src/whatsapp/phone-mention";

/** What a search box's text names. */
export function classify(text: string): { route: "message" | "contact"; value: string } | null {
  const t = text.trim();
  if (/^wamid\./i.test(t)) return { route: "message", value: t };
  // As the API looks a person up: a number in any usual writing (+, spaces, - . ( ) /), or a user id as given.
  const person = personId(t);
  return person === null ? null : { route: "contact", value: person };
}
