/** The database's directory checked in plain words before SQLite's "unable to open database file" (store/storage-dir.ts). */
import { expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { storageDirProblem } from "../../src/store/storage-dir";
import { tempDir } from "../support/daemon";

test("a directory that exists or can be made is fine; a file where a directory should be is named", () => {
  const dir = tempDir();
  expect(storageDirProblem(join(dir, "wa.db"))).toBeNull();
  expect(storageDirProblem(join(dir, "new", "deeper", "wa.db"))).toBeNull();
  writeFileSync(join(dir, "config.toml"), "");
  expect(storageDirProblem(join(dir, "config.toml", "data", "wa.db"))).toBe(`${join(dir, "config.toml")} is not a directory`);
});

test("a directory this user cannot write is named, with the uid (as root: checked by a child running as nobody)", () => {
  const dir = join(tempDir(), "locked");
  mkdirSync(dir);
  chmodSync(dir, 0o555);
  const target = join(dir, "data", "wa.db");
  if (process.getuid?.() !== 0) {
    expect(storageDirProblem(target)).toBe(`directory ${dir} is not writable by uid ${process.getuid!()} (this user)`);
    return;
  }
  chmodSync(join(dir, ".."), 0o755);
  const child = Bun.spawnSync(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "-e", `import { storageDirProblem } from ${JSON.stringify(join(import.meta.dir, "../../src/store/storage-dir.ts"))}; console.log(storageDirProblem(${JSON.stringify(target)}))`]);
  expect(child.stderr.toString()).toBe("");
  expect(child.stdout.toString().trim()).toBe(`directory ${dir} is not writable by uid 65534 (this user)`);
});
