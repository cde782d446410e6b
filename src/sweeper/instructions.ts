/**
 * Fallback instructions an app can carry in `biz_opaque_callback_data` when it sends
 * (Meta echoes the string on every status): JSON `{"sms": "…", "stale_after": "2m",
 * "not_after": "10m", "fallback": "never"}`, waits within domain/fallback-limits.ts. Anything
 * that is not this JSON object is somebody else's data and is ignored, never an error; a
 * malformed field of such an object is left out and logged (tracker.ts).
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

const KEYS = ["sms", "stale_after", "not_after", "fallback"] as const;

/**
 * The instructions, field by field: a malformed one (`"stale_after": 120`) is left out,
 * said in `problems`, and the rest still counts (the OTP keeps its SMS text, with the
 * config's wait). Null when the string is not such an object at all.
 */
export function readInstructions(opaque: string | null): { instructions: Instructions; problems: string[] } | null {
  if (!opaque || opaque[0] !== "{") return null;
  let value: unknown;
  try {
    value = JSON.parse(opaque);
  } catch {
    return null;
  }
  // Only an object that speaks to us: at least one of our keys.
  if (typeof value !== "object" || value === null || Array.isArray(value) || !KEYS.some((k) => Object.hasOwn(value, k))) return null;
  const instructions: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of KEYS) {
    if (!Object.hasOwn(value, key)) continue;
    const field = InstructionsSchema.shape[key].safeParse((value as Record<string, unknown>)[key]);
    if (field.success) instructions[key] = field.data;
    else problems.push(`${key}: ${field.error.issues[0]?.message ?? "not understood"}`);
  }
  return { instructions: instructions as Instructions, problems };
}

export const parseInstructions = (opaque: string | null): Instructions | null => readInstructions(opaque)?.instructions ?? null;
