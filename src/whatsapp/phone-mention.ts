/**
 * Where a person's number is written, for erasure. A text mentions 16505551234 when
 * it holds those digits in order, each pair apart by at most three of the characters
 * numbers are written with (space, no-break space, - . ( ) /), not inside a longer run
 * of digits, optionally after "+" or "00": "16505551234", "+1 (650) 555-1234",
 * "1-650-555-1234", "00 1 650 555 1234". Not: "116505551234" (another number), the
 * number without its country code, or an encoded form (a wamid holds it in base64).
 * Pure; the database's coarse search (store/contact-store.ts) strips the same
 * separators, so it finds at least every text this matches.
 */
export const NUMBER_SEPARATORS = [" ", "\u00a0", "-", ".", "(", ")", "/"] as const;

const SEP = `[${NUMBER_SEPARATORS.map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")}]{0,3}`;

export type Mentions = (text: string) => boolean;

/** The digits of a WhatsApp id as given ("+1 650 555 1234" → "16505551234"); null unless 7 to 15 digits. */
export function waIdDigits(raw: string): string | null {
  let rest = raw.trim().replace(/^\+/, "");
  for (const c of NUMBER_SEPARATORS) rest = rest.replaceAll(c, "");
  return /^[0-9]{7,15}$/.test(rest) ? rest : null;
}

/** A business-scoped user id (BSUID) as Meta writes it: "US.13491208655302741918", a parent "US.ENT.11815799212886844830". */
const USER_ID = /^[A-Z]{2}\.(?:ENT\.)?[0-9]{5,32}$/;

/** The id a person is looked up by: a number's digits (as waIdDigits), or a business-scoped user id as given; null when neither. */
export function personId(raw: string): string | null {
  return waIdDigits(raw) ?? (USER_ID.test(raw.trim()) ? raw.trim() : null);
}

/** Whether a text mentions the number whose digits these are. */
export function mentionsOf(digits: string): Mentions {
  const pattern = new RegExp(`(?<![0-9])(?:00${SEP})?${[...digits].join(SEP)}(?![0-9])`);
  return (text) => pattern.test(text);
}

/**
 * Whether a text mentions any of a person's ids (domain/identity.ts): each by its digits
 * as above, so a business-scoped user id ("US.13491208655302741918") is found by its
 * digits too, in the text and by the database's coarse search alike.
 */
export function mentionsOfAny(ids: readonly string[]): Mentions {
  const each = ids.map((id) => mentionsOf(idDigits(id)));
  return (text) => each.some((m) => m(text));
}

/** The digits the database's coarse search looks for: a number's, or a user id's. */
export const idDigits = (id: string) => id.replace(/[^0-9]/g, "");
