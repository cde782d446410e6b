/** Stable JSON (util/stable-json.ts): the text dedup keys of id-less items are hashed over. */
import { expect, test } from "bun:test";
import { sha256Hex, stableStringify } from "../../src/util/stable-json";

test("keys sorted at every level, undefined members left out", () => {
  expect(stableStringify({ b: 1, a: [{ d: null, c: "x" }], u: undefined })).toBe('{"a":[{"c":"x","d":null}],"b":1}');
});

test("scalars, empty and nested containers, escapes: the text JSON would give, keys sorted", () => {
  const cases: [unknown, string][] = [
    [null, "null"],
    [1, "1"],
    ['a\n"b', '"a\\n\\"b"'],
    [true, "true"],
    [[], "[]"],
    [{}, "{}"],
    [[[]], "[[]]"],
    [[{}], "[{}]"],
    [{ a: [] }, '{"a":[]}'],
    [[1, [2, [3, { z: 1, y: [null, "q"] }]], {}], '[1,[2,[3,{"y":[null,"q"],"z":1}]],{}]'],
    [{ b: { d: [1, 2], c: {} }, a: "é😀", u: undefined }, '{"a":"é😀","b":{"c":{},"d":[1,2]}}'],
  ];
  for (const [value, text] of cases) expect(stableStringify(value)).toBe(text);
});

test("a value 100,000 levels deep: no stack overflow, and two that differ only at the bottom differ", () => {
  const deep = (leaf: string) => JSON.parse(`${'{"a":['.repeat(100_000)}"${leaf}"${"]}".repeat(100_000)}`);
  const a = stableStringify(deep("A"));
  expect(a.length).toBe(100_000 * 8 + 3);
  expect(a).not.toBe(stableStringify(deep("B")));
});

test("the hash of a key's text is SHA-256 in lower-case hex (stored dedup keys depend on it: it never changes)", () => {
  expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  expect(sha256Hex("é😀\n")).toBe(new Bun.CryptoHasher("sha256").update("é😀\n").digest("hex"));
});
