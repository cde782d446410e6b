/**
 * The SMS provider's request, rendered from `[fallback.sms]`: placeholders
 * {{to}} {{text}} {{wamid}} {{reason}} {{error_code}} {{category}} in header and body
 * values, each value escaped by the body's encoding (JSON string or form field), so a
 * message text can never change the request's shape. Pure, so it is unit-tested.
 */
import type { z } from "zod";
import type { SmsSchema } from "../config/schema";
import { fill, type SmsFields } from "../domain/sms-template";

export type SmsSettings = z.infer<typeof SmsSchema>;

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
