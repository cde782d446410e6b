import { timingSafeEqual } from "node:crypto";

/**
 * Compares two secrets in time independent of where they differ and of their
 * lengths: both sides are hashed first, so timingSafeEqual always sees 32 bytes.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = new Bun.CryptoHasher("sha256").update(a).digest();
  const hb = new Bun.CryptoHasher("sha256").update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}
