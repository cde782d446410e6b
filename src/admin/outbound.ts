/** POST /v1/outbound: what an app registers right after it sends (docs/fallback.md). The zod schema is the contract. */
import { z } from "zod";
import { parseDuration } from "../config/duration";
import type { Registration } from "../sweeper/tracker";

const duration = z.string().refine((s) => parseDuration(s) !== null, { message: 'expected a duration such as "90s", "2m" or "1h"' });

export const OutboundItem = z.strictObject({
  wamid: z.string().min(1).max(512),
  to: z.string().regex(/^\+?[0-9]{6,20}$/, "expected a phone number, digits with an optional leading +"),
  text: z.string().min(1).max(2000).optional(),
  category: z.string().min(1).max(64).optional(),
  stale_after: duration.optional(),
  not_after: duration.optional(),
  fallback: z.enum(["auto", "never"]).optional(),
});
export const OutboundBody = z.union([OutboundItem, z.array(OutboundItem).min(1).max(1000)]);
export type OutboundItem = z.infer<typeof OutboundItem>;

export function toRegistration(item: OutboundItem): Registration {
  return {
    wamid: item.wamid,
    to: item.to.replace(/^\+/, ""),
    text: item.text ?? null,
    category: item.category ?? null,
    stale_after_ms: item.stale_after ? parseDuration(item.stale_after) : null,
    not_after_ms: item.not_after ? parseDuration(item.not_after) : null,
    fallback: item.fallback ?? null,
  };
}

/** The first problem, as "field: reason" (field as a path: `[2].to`). */
export function firstProblem(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
  return `${path || "body"}: ${issue.message}`;
}
