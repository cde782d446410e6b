/**
 * The SMS provider's request, rendered from `[fallback.sms]`: placeholders
 * {{to}} {{text}} {{wamid}} {{reason}} {{error_code}} {{category}} in header and body
 * values, each value escaped by the body's encoding (JSON string or form field), so a
 * message text can never change the request's shape. Pure, so it is unit-tested.
 */
import type { z } from "zod";
import type { SmsSchema } from "../config/schema";

export type SmsSettings = z.infer<typeof SmsSchema>;

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

export interface SmsRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export function smsRequest(settings: SmsSettings, fields: SmsFields): SmsRequest {
  const values = Object.fromEntries(Object.entries(settings.body).map(([k, v]) => [k, fill(v, fields)]));
  const json = settings.content_type === "json";
  const headers: Record<string, string> = {
    "content-type": json ? "application/json" : "application/x-www-form-urlencoded",
    ...Object.fromEntries(Object.entries(settings.headers).map(([k, v]) => [k, fill(v, fields)])),
    // The provider may deduplicate on it; a retry of the same SMS carries the same key.
    "idempotency-key": fields.wamid,
  };
  return { method: settings.method, url: settings.url, headers, body: json ? JSON.stringify(values) : new URLSearchParams(values).toString() };
}
