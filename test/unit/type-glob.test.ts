/** Globs on event types and alert kinds (events/type-glob.ts): only `*` is special, and any glob is matched in linear steps. */
import { expect, test } from "bun:test";
import { globMatcher, matchesKnownType } from "../../src/events/type-glob";

test("`*` is any run of characters, dots included; every other character stands for itself", () => {
  const cases: [string, string, boolean][] = [
    ["message.*", "message.received", true],
    ["message.*", "message.", true],
    ["message.*", "messages.received", false],
    ["*", "template.status", true],
    ["*.status", "message.status", true],
    ["*.status", "template.status.x", false],
    ["m*e*d", "message.received", true],
    ["m*e*x", "message.received", false],
    ["message.received", "message.received", true],
    ["message.receive", "message.received", false],
    ["message?received", "message.received", false], // `?` is a character, not a wildcard
    ["message.received", "messageXreceived", false], // `.` is a dot
    ["**.*", "a.b", true],
    ["", "", true],
    ["", "a", false],
  ];
  for (const [glob, name, expected] of cases) expect([glob, name, globMatcher(glob).test(name)]).toEqual([glob, name, expected]);
});

test("a glob of many stars ends at once (a regular expression of `.*`s backtracked for ages on these)", () => {
  expect(globMatcher(`${"*".repeat(60)}#`).test("message.status.something.long.enough")).toBe(false);
  expect(globMatcher(`${"*a".repeat(60)}b`).test("a".repeat(200))).toBe(false);
  expect(matchesKnownType(`${"*".repeat(60)}#`)).toBe(false);
});
