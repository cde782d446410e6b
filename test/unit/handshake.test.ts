import { expect, test } from "bun:test";
import { checkHandshake } from "../../src/ingest/handshake";

const TOKEN = "my-verify-token";
const scenarios: [name: string, query: string, status: number, extra?: { challenge?: string; reason?: RegExp }][] = [
  ["valid: challenge echoed verbatim", "hub.mode=subscribe&hub.verify_token=my-verify-token&hub.challenge=1158201444", 200, { challenge: "1158201444" }],
  ["challenge is not parsed as a number", "hub.mode=subscribe&hub.verify_token=my-verify-token&hub.challenge=007e3", 200, { challenge: "007e3" }],
  ["percent-encoded challenge is decoded once", "hub.mode=subscribe&hub.verify_token=my-verify-token&hub.challenge=a%2Bb%20c", 200, { challenge: "a+b c" }],
  ["wrong token", "hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1", 403, { reason: /verify_token/ }],
  ["token prefix is not enough", "hub.mode=subscribe&hub.verify_token=my-verify&hub.challenge=1", 403],
  ["wrong mode", "hub.mode=unsubscribe&hub.verify_token=my-verify-token&hub.challenge=1", 403, { reason: /hub.mode/ }],
  ["missing challenge", "hub.mode=subscribe&hub.verify_token=my-verify-token", 400, { reason: /hub.challenge/ }],
  ["missing everything", "", 400, { reason: /hub.mode, hub.verify_token, hub.challenge/ }],
];

for (const [name, query, status, extra] of scenarios) {
  test(name, () => {
    const result = checkHandshake(new URLSearchParams(query), TOKEN);
    expect(result.status as number).toBe(status);
    if (extra?.challenge !== undefined) expect(result).toEqual({ status: 200, challenge: extra.challenge });
    if (extra?.reason) expect("reason" in result ? result.reason : "").toMatch(extra.reason);
  });
}
