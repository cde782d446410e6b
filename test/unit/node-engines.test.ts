/**
 * The README promises a fresh machine needs only Node 20 and npm: every locked package,
 * dev dependencies included, must accept Node 20, or `npm ci` warns EBADENGINE (issue
 * 18, item 9: @apidevtools/swagger-parser 13.1 asked for Node >= 22.19; 12.1 does not).
 */
import { expect, test } from "bun:test";
import { join } from "node:path";

test("every package in package-lock.json accepts Node 20", async () => {
  const lock = (await Bun.file(join(import.meta.dir, "../../package-lock.json")).json()) as { packages: Record<string, { engines?: { node?: string } }> };
  const refusing = Object.entries(lock.packages)
    .filter(([, p]) => p.engines?.node !== undefined && !Bun.semver.satisfies("20.0.0", p.engines.node))
    .map(([name, p]) => `${name} (node ${p.engines!.node})`);
  expect(refusing).toEqual([]);
});
