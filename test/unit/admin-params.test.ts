/** The admin API's 400 reasons (admin/outbound.ts firstProblem over the admin/params.ts schemas): the field, and what it takes. */
import { expect, test } from "bun:test";
import { firstProblem } from "../../src/admin/outbound";
import { AlertsQuery, EventsQuery, OrphansBody, ReplayBody } from "../../src/admin/params";
import type { z } from "zod";

const reason = (schema: z.ZodType, input: unknown) => {
  const parsed = schema.safeParse(input);
  if (parsed.success) throw new Error("accepted");
  return firstProblem(parsed.error);
};

test("a required field left out is 'required', whatever its type", () => {
  expect(reason(ReplayBody, { type: "message.*" })).toBe("since: required");
});

test("a field of several accepted forms says which, in the schema's own words", () => {
  expect(reason(ReplayBody, { since: "yesterday" })).toStartWith("since: expected an RFC 3339 time such as 2026-11-23T10:00:00Z or a date");
  expect(reason(OrphansBody, { action: "zap" })).toBe('action: expected "cancel" or "move"');
  expect(reason(OrphansBody, {})).toBe('action: expected "cancel" or "move"');
});

test("a key no schema has is named as the field it would be", () => {
  expect(reason(ReplayBody, { since: "2026-11-23", bogus: 1 })).toBe("bogus: not a field");
});

test("a glob past 200 characters is refused in plain words, wherever a type or kind is taken", () => {
  const long = "*".repeat(201);
  for (const [schema, input, key] of [[EventsQuery, { type: long }, "type"], [AlertsQuery, { kind: long }, "kind"], [ReplayBody, { type: long, since: "2026-11-20" }, "type"]] as const) {
    expect(reason(schema, input)).toBe(`${key}: expected a name or a glob of at most 200 characters`);
  }
});
