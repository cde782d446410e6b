/**
 * Whether the database's directory can be made and written by this process: said in
 * plain words ("not writable by uid 65534") before SQLite answers "unable to open
 * database file" or mkdir answers EEXIST about a path the operator never typed.
 */
import { accessSync, constants, statSync, type Stats } from "node:fs";
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

/**
 * The inbox log's directory holds acknowledged webhooks no one else has: one another
 * user owns, or may write (group or world; a symlink is judged by what it points at),
 * lets them remove or replace webhooks Meta will never send again. Null when it is
 * this user's alone, or does not exist yet (the daemon makes it 0700).
 */
export function segmentsDirProblem(dir: string): string | null {
  let st: Stats;
  try {
    st = statSync(dir);
  } catch {
    return null;
  }
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return `${dir} belongs to uid ${st.uid}, not this user (uid ${uid}): whoever owns it could remove acknowledged webhooks; chown it to this user`;
  if ((st.mode & 0o022) !== 0) return `${dir} is writable by ${st.mode & 0o002 ? "everyone" : "its group"} (mode ${(st.mode & 0o777).toString(8)}): another user could remove acknowledged webhooks; chmod 700 it`;
  return null;
}
