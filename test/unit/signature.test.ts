import { describe, expect, test } from "bun:test";
import vectors from "../fixtures/signature-vectors.json";
import { hubSignature, verifyHubSignature } from "../../src/ingest/signature";

const enc = (s: string) => new TextEncoder().encode(s);
const bytesOf = (b64: string) => new Uint8Array(Buffer.from(b64, "base64"));

describe("X-Hub-Signature-256 golden vectors (openssl)", () => {
  for (const v of vectors.vectors) {
    test(v.name, () => {
      const body = bytesOf(v.body_base64);
      expect(hubSignature(body, v.secret)).toBe(v.signature);
      expect(verifyHubSignature(body, v.signature, [enc(v.secret)])).toEqual({ ok: true, secretIndex: 0 });
    });
  }

  test("the raw UTF-8 body and its \\u-escaped form have different signatures", () => {
    const [raw, escaped] = [vectors.vectors[1]!, vectors.vectors[2]!];
    expect(JSON.parse(Buffer.from(raw.body_base64, "base64").toString())).toEqual(
      JSON.parse(Buffer.from(escaped.body_base64, "base64").toString()),
    );
    // Re-serializing a parsed body can never reproduce Meta's bytes: only the raw bytes verify.
    const reserialized = enc(JSON.stringify(JSON.parse(Buffer.from(escaped.body_base64, "base64").toString())));
    expect(verifyHubSignature(reserialized, escaped.signature, [enc(escaped.secret)]).ok).toBe(false);
  });
});

describe("verifyHubSignature", () => {
  const body = enc('{"object":"whatsapp_business_account","entry":[]}');
  const secrets = [enc("first"), enc("second")];
  const good = hubSignature(body, "second");

  const cases: [name: string, header: string | null, expected: ReturnType<typeof verifyHubSignature>][] = [
    ["matches the second configured secret", good, { ok: true, secretIndex: 1 }],
    ["uppercase hex is the same digest", "sha256=" + good.slice(7).toUpperCase(), { ok: true, secretIndex: 1 }],
    ["missing header", null, { ok: false, reason: "missing" }],
    ["empty header", "", { ok: false, reason: "missing" }],
    ["no sha256= prefix", good.slice(7), { ok: false, reason: "malformed" }],
    ["sha1 header format", "sha1=" + "a".repeat(40), { ok: false, reason: "malformed" }],
    ["too short", good.slice(0, -2), { ok: false, reason: "malformed" }],
    ["too long", good + "00", { ok: false, reason: "malformed" }],
    ["non-hex digits", "sha256=" + "g".repeat(64), { ok: false, reason: "malformed" }],
    ["well-formed but wrong", "sha256=" + "0".repeat(64), { ok: false, reason: "mismatch" }],
    ["signed with a secret we do not have", hubSignature(body, "third"), { ok: false, reason: "mismatch" }],
  ];
  for (const [name, header, expected] of cases) {
    test(name, () => expect(verifyHubSignature(body, header, secrets)).toEqual(expected));
  }

  test("one changed byte of a non-ASCII body fails", () => {
    const utf8 = enc('{"body":"caf\u00e9 \u{1F600}"}');
    const sig = hubSignature(utf8, "first");
    const tampered = utf8.slice();
    tampered[tampered.length - 3]! ^= 1;
    expect(verifyHubSignature(utf8, sig, secrets).ok).toBe(true);
    expect(verifyHubSignature(tampered, sig, secrets)).toEqual({ ok: false, reason: "mismatch" });
  });
});
