/** server.trusted_proxies: whose X-Forwarded-For is believed, and which entry is the client. */
import { expect, test } from "bun:test";
import { clientAddress } from "../../src/http/client-address";
import { trustTest } from "../../src/util/cidr";
import { parseCidr } from "../../src/util/cidr";

const loopback = trustTest(["127.0.0.0/8", "::1/128"]);

const cases: [peer: string | null, xff: string | null, expected: string | null, why: string][] = [
  ["127.0.0.1", "203.0.113.7", "203.0.113.7", "Caddy on loopback names the client"],
  ["::ffff:127.0.0.1", "203.0.113.7", "203.0.113.7", "dual-stack sockets report IPv4 as mapped IPv6"],
  ["::1", "2001:db8::5", "2001:db8::5", "IPv6 loopback proxy"],
  ["198.51.100.9", "203.0.113.7", "198.51.100.9", "an untrusted peer cannot pose as anyone"],
  ["127.0.0.1", "1.2.3.4, 203.0.113.7", "203.0.113.7", "the client may prepend anything: take the right-most untrusted"],
  ["127.0.0.1", "203.0.113.7, 127.0.0.5", "203.0.113.7", "trusted hops on the right are skipped"],
  ["127.0.0.1", "127.0.0.2, 127.0.0.3", "127.0.0.2", "every hop trusted: the left-most"],
  ["127.0.0.1", "not-an-address", "127.0.0.1", "garbage: only what we saw"],
  ["127.0.0.1", null, "127.0.0.1", "no header: the peer"],
  ["127.0.0.1", "", "127.0.0.1", "empty header: the peer"],
  [null, "203.0.113.7", null, "no peer known"],
];

for (const [peer, xff, expected, why] of cases) {
  test(`${why}: peer ${peer}, X-Forwarded-For ${JSON.stringify(xff)} → ${expected}`, () => {
    expect(clientAddress(peer, xff, loopback)).toBe(expected);
  });
}

test("CIDRs: prefixes, bare addresses, IPv6, and what is refused", () => {
  const trusted = trustTest(["10.0.0.0/8", "192.168.1.10", "fd00::/8", "172.16.0.0/12"]);
  expect(trusted("10.255.0.1")).toBe(true);
  expect(trusted("11.0.0.1")).toBe(false);
  expect(trusted("192.168.1.10")).toBe(true);
  expect(trusted("192.168.1.11")).toBe(false);
  expect(trusted("fd12:3456::1")).toBe(true);
  expect(trusted("fe80::1")).toBe(false);
  expect(trusted("172.31.255.255")).toBe(true);
  expect(trusted("172.32.0.0")).toBe(false);
  for (const bad of ["10.0.0.0/33", "::/129", "10.0.0/8", "localhost", "1.2.3.4/8/9", "1.2.3.4/x"]) expect(parseCidr(bad)).toBeNull();
  expect(parseCidr("::/0")).toEqual({ bytes: new Uint8Array(16), prefix: 0 });
});
