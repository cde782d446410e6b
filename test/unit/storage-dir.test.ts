/** The database's directory checked in plain words before SQLite's "unable to open database file" (store/storage-dir.ts). */
import { expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { segmentsDirProblem, storageDirProblem } from "../../src/store/storage-dir";
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

test("the inbox log's directory must be this user's alone: writable by its group or everyone (a symlink judged by its target) is a problem", () => {
  const dir = tempDir();
  const segments = join(dir, "wa.db.segments");
  expect(segmentsDirProblem(segments)).toBeNull(); // not there yet: the daemon makes it 0700
  mkdirSync(segments, { mode: 0o700 });
  expect(segmentsDirProblem(segments)).toBeNull();
  chmodSync(segments, 0o777);
  expect(segmentsDirProblem(segments)).toBe(`${segments} is writable by everyone (mode 777): another user could remove acknowledged webhooks; chmod 700 it`);
  chmodSync(segments, 0o770);
  expect(segmentsDirProblem(segments)).toStartWith(`${segments} is writable by its group (mode 770)`);
  const shared = join(dir, "shared");
  mkdirSync(shared, { mode: 0o700 });
  chmodSync(shared, 0o777);
  const linked = join(dir, "linked.db.segments");
  symlinkSync(shared, linked);
  expect(segmentsDirProblem(linked)).toStartWith(`${linked} is writable by everyone`);
});

test.if(process.getuid?.() === 0)("an inbox log directory another user owns is a problem, named by its uid", () => {
  const segments = join(tempDir(), "wa.db.segments");
  mkdirSync(segments, { mode: 0o700 });
  chownSync(segments, 65534, 65534);
  expect(segmentsDirProblem(segments)).toBe(`${segments} belongs to uid 65534, not this user (uid 0): whoever owns it could remove acknowledged webhooks; chown it to this user`);
});
