/**
 * The SMS text's and request's placeholders: {{to}} {{text}} {{wamid}} {{reason}}
 * {{error_code}} {{category}}, filled from the message (sweeper/sms-request.ts escapes
 * each value for the request's encoding); any other {{name}} is a typo the config check names.
 */

export interface SmsFields {
  to: string;
  text: string;
  wamid: string;
  reason: string;
  error_code: number | null;
  category: string | null;
}

export const SMS_PLACEHOLDERS = ["to", "text", "wamid", "reason", "error_code", "category"] as const satisfies readonly (keyof SmsFields)[];

const PLACEHOLDER = new RegExp(`\\{\\{\\s*(${SMS_PLACEHOLDERS.join("|")})\\s*\\}\\}`, "g");
const ANY_PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

export function fill(template: string, fields: SmsFields): string {
  return template.replace(PLACEHOLDER, (_m, name: keyof SmsFields) => String(fields[name] ?? ""));
}

/** The `{{name}}`s of a template that are none of ours: a typo would be sent as written. */
export function unknownPlaceholders(template: string): string[] {
  return [...template.matchAll(ANY_PLACEHOLDER)].map((m) => m[1]!).filter((name) => !(SMS_PLACEHOLDERS as readonly string[]).includes(name));
}
