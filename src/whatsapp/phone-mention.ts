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

/**
 * A business-scoped user id (BSUID) as pywa's fixtures write it: "US.13491208655302741918",
 * a parent "US.ENT.11815799212886844830". Found in texts by its digits, as a number is.
 */
const DIGITS_USER_ID = /^[A-Z]{2}\.(?:ENT\.)?[0-9]{5,32}$/;
/**
 * Any user id: Meta's own examples write "user.9373795779eb…", and Meta says to treat
 * them as opaque. At least one letter (else it is a number, or a mistyped one) and one
 * digit (every form Meta writes has them: a word alone is a typo, not an id).
 */
const USER_ID = /^(?=[^A-Za-z]*[A-Za-z])(?=[^0-9]*[0-9])[A-Za-z0-9][A-Za-z0-9._:-]{4,127}$/;

/** The id a person is looked up by: a number's digits (as waIdDigits), or a business-scoped user id as given; null when neither. */
export function personId(raw: string): string | null {
  return waIdDigits(raw) ?? (USER_ID.test(raw.trim()) ? raw.trim() : null);
}

/** An id found in texts as written (a user id not of the US.<digits> form), not by its digits. */
const isOpaque = (id: string) => waIdDigits(id) === null && !DIGITS_USER_ID.test(id);

/** Whether a text mentions the number whose digits these are. */
export function mentionsOf(digits: string): Mentions {
  const pattern = new RegExp(`(?<![0-9])(?:00${SEP})?${[...digits].join(SEP)}(?![0-9])`);
  return (text) => pattern.test(text);
}

/**
 * Whether a text mentions any of a person's ids (domain/identity.ts): each by its digits
 * as above, so a business-scoped user id ("US.13491208655302741918") is found by its
 * digits too, in the text and by the database's coarse search alike; a user id of another
 * form ("user.9373795779eb4a2c") as written.
 */
export function mentionsOfAny(ids: readonly string[]): Mentions {
  const each = ids.map((id) => (isOpaque(id) ? mentionsAsWritten(id) : mentionsOf(searchKey(id))));
  return (text) => each.some((m) => m(text));
}

/** An opaque user id, as written and not inside a longer id. */
function mentionsAsWritten(id: string): Mentions {
  const pattern = new RegExp(`(?<![A-Za-z0-9])${id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![A-Za-z0-9])`);
  return (text) => pattern.test(text);
}

/**
 * What the database's coarse search looks for in a text stripped of NUMBER_SEPARATORS: a
 * number's or a US.<digits> user id's digits; an opaque user id as written, stripped alike.
 */
export const searchKey = (id: string) => (isOpaque(id) ? NUMBER_SEPARATORS.reduce((k, c) => k.replaceAll(c, ""), id) : id.replace(/[^0-9]/g, ""));
