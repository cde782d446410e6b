/**
 * Fallback instructions an app can carry in `biz_opaque_callback_data` when it sends
 * (Meta echoes the string on every status): JSON `{"sms": "…", "stale_after": "2m",
 * "not_after": "10m", "fallback": "never"}`, waits within domain/fallback-limits.ts. Anything
 * that is not this JSON object is somebody else's data and is ignored, never an error.
 */
import { z } from "zod";
import { parseDuration } from "../config/duration";
import { MAX_FALLBACK_WAIT_MS } from "../domain/fallback-limits";

const durationMs = z
  .string()
  .transform((s, ctx) => parseDuration(s) ?? (ctx.addIssue({ code: "custom", message: "not a duration" }), z.NEVER))
  .refine((ms) => ms <= MAX_FALLBACK_WAIT_MS, { message: "longer than a fallback may wait" });

export const InstructionsSchema = z.object({
  sms: z.string().min(1).optional(),
  stale_after: durationMs.optional(),
  not_after: durationMs.optional(),
  fallback: z.enum(["auto", "never"]).optional(),
});
export type Instructions = z.infer<typeof InstructionsSchema>;

const KEYS = ["sms", "stale_after", "not_after", "fallback"];

export function parseInstructions(opaque: string | null): Instructions | null {
  if (!opaque || opaque[0] !== "{") return null;
  let value: unknown;
  try {
    value = JSON.parse(opaque);
  } catch {
    return null;
  }
  // Only an object that speaks to us: at least one of our keys, each well-formed.
  if (typeof value !== "object" || value === null || !KEYS.some((k) => Object.hasOwn(value, k))) return null;
  const parsed = InstructionsSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
