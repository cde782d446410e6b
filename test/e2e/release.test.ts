/**
 * `make release`: the three release binaries and SHA256SUMS. Each x64 one starts and
 * answers --version (baseline too: it runs everywhere x64 does); the arm64 one is an
 * aarch64 ELF executable (running it needs an arm64 machine or qemu).
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../..");
const RELEASE = join(ROOT, "dist/release");

test("make release builds linux-x64, linux-x64-baseline and linux-arm64 with checksums; the x64 ones run", () => {
  const make = Bun.spawnSync(["make", "release"], { cwd: ROOT, stderr: "pipe", stdout: "pipe" });
  expect({ code: make.exitCode, stderr: make.exitCode === 0 ? "" : make.stderr.toString() }).toEqual({ code: 0, stderr: "" });
  const sums = Bun.spawnSync(["sha256sum", "--check", "SHA256SUMS"], { cwd: RELEASE });
  expect(sums.stdout.toString().trim().split("\n")).toEqual(["wa-webhookd-linux-x64: OK", "wa-webhookd-linux-x64-baseline: OK", "wa-webhookd-linux-arm64: OK"]);
  const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
  for (const name of ["wa-webhookd-linux-x64", "wa-webhookd-linux-x64-baseline"]) {
    const run = Bun.spawnSync([join(RELEASE, name), "--version"]);
    expect({ name, code: run.exitCode, out: run.stdout.toString() }).toEqual({ name, code: 0, out: expect.stringMatching(new RegExp(`^wa-webhookd ${version.replaceAll(".", "\\.")}\\+\\S+\\n$`)) });
  }
  // ELF header: e_machine at offset 18 is 0xB7 for aarch64.
  const arm = readFileSync(join(RELEASE, "wa-webhookd-linux-arm64"));
  expect([arm.subarray(0, 4).toString("latin1"), arm.readUInt16LE(18)]).toEqual(["\x7fELF", 0xb7]);
}, 180_000);
