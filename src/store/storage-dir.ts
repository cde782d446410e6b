/**
 * Whether the database's directory can be made and written by this process: said in
 * plain words ("not writable by uid 65534") before SQLite answers "unable to open
 * database file" or mkdir answers EEXIST about a path the operator never typed.
 */
import { accessSync, constants, statSync } from "node:fs";
import { dirname } from "node:path";

/** Null when the directory of `databasePath` exists writable, or can be created; else why not. */
export function storageDirProblem(databasePath: string): string | null {
  let dir = dirname(databasePath);
  // The nearest part of the path that exists decides: a file where a directory should be, or no write access.
  for (;;) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(dir).isDirectory();
    } catch {
      const parent = dirname(dir);
      if (parent === dir) return null;
      dir = parent;
      continue;
    }
    if (!isDirectory) return `${dir} is not a directory`;
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
      return null;
    } catch {
      return `directory ${dir} is not writable by uid ${process.getuid?.() ?? "?"} (this user)`;
    }
  }
}
