/** Stable JSON (util/stable-json.ts): the text dedup keys of id-less items are hashed over. */
import { expect, test } from "bun:test";
import { stableStringify, stableStringifyInto } from "../../src/util/stable-json";

const pieces = (value: unknown) => {
  let text = "";
  stableStringifyInto(value, (t) => (text += t));
  return text;
};

test("keys sorted at every level, undefined members left out", () => {
  expect(stableStringify({ b: 1, a: [{ d: null, c: "x" }], u: undefined })).toBe('{"a":[{"c":"x","d":null}],"b":1}');
});

test("built piece by piece without recursion, the text is the same as stableStringify's", () => {
  for (const value of [null, 1, "a\n\"b", true, [], {}, [[]], [{}], { a: [] }, [1, [2, [3, { z: 1, y: [null, "q"] }]], {}], { b: { d: [1, 2], c: {} }, a: "é😀", u: undefined }]) {
    expect(pieces(value)).toBe(stableStringify(value));
  }
});

test("a value 100,000 levels deep: no stack overflow, and two that differ only at the bottom differ", () => {
  const deep = (leaf: string) => JSON.parse(`${'{"a":['.repeat(100_000)}"${leaf}"${"]}".repeat(100_000)}`);
  const a = pieces(deep("A"));
  expect(a.length).toBe(100_000 * 8 + 3);
  expect(a).not.toBe(pieces(deep("B")));
});
