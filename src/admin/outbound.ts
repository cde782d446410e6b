/** POST /v1/outbound: what an app registers right after it sends (docs/fallback.md). The zod schema is the contract. */
import { z } from "zod";
import { parseDuration } from "../config/duration";
import { FALLBACK_WAIT_TOO_LONG, MAX_FALLBACK_WAIT, withinFallbackWait } from "../domain/fallback-limits";
import { WAMID_EXPECTED, WAMID_MAX_LENGTH, WAMID_PATTERN } from "../sweeper/idempotency-key";
import { CATEGORY_EXPECTED, FALLBACK_CATEGORIES, isFallbackCategory } from "../domain/fallback-policy";
import type { Registration } from "../sweeper/tracker";
import { phoneDigits } from "../whatsapp/phone";

export const MAX_OUTBOUND_ITEMS = 1000;

const wait = z
  .string()
  .refine((s) => parseDuration(s) !== null, { message: 'expected a duration such as "90s", "2m" or "1h"' })
  .refine(withinFallbackWait, { message: FALLBACK_WAIT_TOO_LONG })
  .describe(`A duration, at most "${MAX_FALLBACK_WAIT}"`);

export const OutboundItem = z.strictObject({
  // Also the SMS request's Idempotency-Key (sweeper/idempotency-key.ts).
  wamid: z.string().min(1, WAMID_EXPECTED).max(WAMID_MAX_LENGTH, `at most ${WAMID_MAX_LENGTH} characters`).regex(WAMID_PATTERN, WAMID_EXPECTED),
  to: z.string().regex(/^\+?[0-9]{6,20}$/, "expected a phone number, digits with an optional leading +"),
  text: z.string().min(1, "must not be empty").max(2000, "at most 2,000 characters").optional(),
  category: z
    .string()
    .refine(isFallbackCategory, { message: CATEGORY_EXPECTED })
    .optional()
    .describe(`Meta's pricing category: ${FALLBACK_CATEGORIES.join(", ")} (any case; - or _)`),
  stale_after: wait.optional(),
  not_after: wait.optional(),
  fallback: z.enum(["auto", "never"], { error: 'expected "auto" or "never"' }).optional(),
});
export const OutboundBody = z.union([
  OutboundItem,
  z
    .array(OutboundItem)
    .min(1, "expected at least one message")
    .max(MAX_OUTBOUND_ITEMS, { error: (issue) => `at most ${MAX_OUTBOUND_ITEMS.toLocaleString("en")} messages per request, got ${(issue.input as unknown[]).length.toLocaleString("en")}` }),
]);
export type OutboundItem = z.infer<typeof OutboundItem>;

export function toRegistration(item: OutboundItem): Registration {
  return {
    wamid: item.wamid,
    to: phoneDigits(item.to),
    text: item.text ?? null,
    category: item.category ?? null,
    stale_after_ms: item.stale_after ? parseDuration(item.stale_after) : null,
    not_after_ms: item.not_after ? parseDuration(item.not_after) : null,
    fallback: item.fallback ?? null,
  };
}

/** The first problem, as "field: reason" (field as a path: `[2].to`). */
export function firstProblem(error: z.ZodError): string {
  const issue = specific(error.issues[0]!);
  // A key we do not know is named as the field it would be.
  const [path, message] =
    issue.code === "unrecognized_keys" ? [[...issue.path, issue.keys[0]!], `not a field${issue.keys.length > 1 ? ` (nor ${issue.keys.slice(1).join(", ")})` : ""}`] : [issue.path, missing(issue) ? "required" : issue.message];
  const name = path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
  return `${name || "body"}: ${message}`;
}

/** zod says "expected string, received undefined" for a field that is not there. */
const missing = (issue: z.core.$ZodIssue) => issue.code === "invalid_type" && / received undefined$/.test(issue.message);

/**
 * A union fails as zod's bare "Invalid input". Left out: "required". With words of its
 * own, those. Else (one message, or an array of them) the branch of the input's own kind
 * says what is wrong, and where; with none, the kinds expected.
 */
function specific(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== "invalid_union") return issue;
  const firsts = issue.errors.flatMap((b) => (b[0] ? [b[0]] : []));
  if (firsts.length > 0 && firsts.every(missing)) return { ...issue, message: "required" };
  // A union with words of its own ('expected "cancel" or "move"', an RFC 3339 time…) says it best.
  if (issue.message !== "Invalid input") return issue;
  const wrongKind = (branch: z.core.$ZodIssue[]) => branch[0]?.code === "invalid_type" && branch[0].path.length === 0;
  const branch = issue.errors.find((b) => b.length > 0 && !wrongKind(b));
  if (!branch) {
    const kinds = [...new Set(firsts.flatMap((i) => (i.code === "invalid_type" ? [i.expected] : [])))];
    return { ...issue, message: `expected ${kinds.join(" or ")}` };
  }
  const inner = specific(branch[0]!);
  return { ...inner, path: [...issue.path, ...inner.path] };
}
