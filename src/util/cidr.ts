/** IP addresses and CIDR ranges, IPv4 and IPv6: parsed to bytes, and range membership. */
import { isIP } from "node:net";

export interface Cidr {
  bytes: Uint8Array; // 4 or 16
  prefix: number;
}

/** "10.0.0.0/8", "::1/128", or a bare address (a /32 or /128). Null when unreadable. */
export function parseCidr(text: string): Cidr | null {
  const [address, prefixText, ...rest] = text.trim().split("/");
  if (rest.length > 0 || address === undefined) return null;
  const bytes = addressBytes(address);
  if (bytes === null) return null;
  const max = bytes.length * 8;
  if (prefixText === undefined) return { bytes, prefix: max };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return null;
  return { bytes, prefix: Number(prefixText) };
}

/** IPv4 and IPv4-mapped IPv6 (::ffff:1.2.3.4, what dual-stack sockets report) both become 4 bytes. */
export function addressBytes(text: string): Uint8Array | null {
  const address = text.trim().replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  const kind = isIP(address);
  if (kind === 4) return Uint8Array.from(address.split(".").map(Number));
  if (kind !== 6) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return addressBytes(mapped[1]!);
  return ipv6Bytes(address);
}

function ipv6Bytes(address: string): Uint8Array {
  // isIP has validated it; expand "::" and a trailing dotted quad.
  let text = address;
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const b = quad[1]!.split(".").map(Number);
    text = text.slice(0, -quad[1]!.length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, null];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    bytes[i * 2] = v >> 8;
    bytes[i * 2 + 1] = v & 0xff;
  });
  return bytes;
}

/** Whether the address (addressBytes) is inside the range. */
export function inCidr(address: Uint8Array, cidr: Cidr): boolean {
  if (address.length !== cidr.bytes.length) return false;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((address[i]! & mask) !== (cidr.bytes[i]! & mask)) return false;
  }
  return true;
}

export type TrustTest = (address: string) => boolean;

/** Whether an address is in any of the ranges (unreadable ranges are left out). */
export function trustTest(cidrs: readonly string[]): TrustTest {
  const parsed = cidrs.map((c) => parseCidr(c)).filter((c): c is Cidr => c !== null);
  return (address) => {
    const bytes = addressBytes(address);
    return bytes !== null && parsed.some((c) => inCidr(bytes, c));
  };
}
