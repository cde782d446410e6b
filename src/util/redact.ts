/**
 * Personal data out of the logs. A person's wa_id becomes a keyed hash ("wa_" + 12 hex
 * digits of HMAC-SHA256): stable, so lines about one person still correlate, and not
 * reversible without the key (a plain hash of a phone number is: there are few numbers).
 * Free text (errors, alert titles) has its phone-like digit runs hashed the same way.
 * A wamid becomes "wm_" + 12 hex digits the same way: Meta's wamid is base64 of a
 * record that holds the recipient's or sender's number in digits.
 */
import { CryptoHasher } from "bun";

export interface Redactor {
  /** A wa_id as it may appear in a log line. */
  person(waId: string): string;
  /** A message id (wamid) as it may appear in a log line. */
  message(wamid: string): string;
  /** Free text with phone numbers in it hashed, except the business's own (`keep`, compared by digits). */
  text(s: string, keep?: ReadonlySet<string>): string;
}

/**
 * 7 to 15 digits, optionally with +, spaces, dashes or parentheses between them (not
 * dots: IP addresses). An ISO date, with its time, is matched first and kept as it is:
 * "2026-11-23 10:00" would otherwise read as a 10-digit number.
 */
const PHONE_LIKE = /(\d{4}-[01]\d-[0-3]\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?)?)|\+?\(?\d(?:[\d \-()]*\d){6,}/g;
const digitCount = (s: string) => s.replace(/\D/g, "").length;
const phoneLike = (m: string) => digitCount(m) >= 7 && digitCount(m) <= 15;
/** A count with its unit after it ("4194304 bytes", "120000 ms") is a size or a time, not a number to hide. */
const UNIT_AFTER = /^\s?(?:bytes|B|KiB|MiB|GiB|ms|s)\b/;
/** Only the digits of a number, the form `keep` sets hold. */
export const digitsOf = (s: string) => s.replace(/\D/g, "");

/** A wamid inside free text ("no message wamid.HBgLNDQ3…"): long enough to hold a number (Meta's are ~60 characters), not an example stub. */
export const WAMID_IN_TEXT = /(wamid\.[A-Za-z0-9+/=_-]{16,})/;

export const noRedaction: Redactor = { person: (id) => id, message: (wamid) => wamid, text: (s) => s };

export function keyedRedactor(key: string): Redactor {
  const person = (waId: string) => {
    const digits = digitsOf(waId);
    return "wa_" + new CryptoHasher("sha256", key).update(digits || waId).digest("hex").slice(0, 12);
  };
  const message = (wamid: string) => "wm_" + new CryptoHasher("sha256", key).update(wamid).digest("hex").slice(0, 12);
  return {
    person,
    message,
    // Wamids first, and the text between them searched for numbers: a wamid's hash
    // (12 hex digits) must not be taken for a number and hashed again.
    text: (s, keep) =>
      s
        .split(WAMID_IN_TEXT)
        .map((part, i) =>
          i % 2 === 1
            ? message(part)
            : part.replace(PHONE_LIKE, (m: string, date: string | undefined, at: number) =>
                date === undefined && phoneLike(m) && !keep?.has(digitsOf(m)) && !UNIT_AFTER.test(part.slice(at + m.length)) ? person(m) : m,
              ),
        )
        .join(""),
  };
}

/**
 * The hashing key from the [log] settings: log.redact_key, else one derived from the
 * admin token (never the token itself); null when log.redact = false.
 */
export function redactionKey(log: { redact: boolean; redact_key?: string | undefined }, adminToken: string): string | null {
  if (!log.redact) return null;
  return log.redact_key ?? new CryptoHasher("sha256", adminToken).update("wa-webhookd log redaction").digest("hex");
}

export const redactorFor = (key: string | null): Redactor => (key === null ? noRedaction : keyedRedactor(key));
