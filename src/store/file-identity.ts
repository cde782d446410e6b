/**
 * Notices that `storage.path` no longer names the file we have open. SQLite keeps
 * writing to an open file after it is deleted or replaced (rm, a restore copied over
 * it), so commits still "succeed" — into a file no restart will ever see again.
 * Comparing device and inode with the path's costs one stat per commit batch.
 */
import { statSync } from "node:fs";
import { StorageError } from "./errors";

export type IdentityCheck = () => void;

export function fileIdentity(path: string): IdentityCheck {
  const opened = statSync(path);
  return () => {
    let now: { dev: number; ino: number };
    try {
      now = statSync(path);
    } catch {
      throw new StorageError("gone", `database file ${path} was deleted while open; restart the daemon`);
    }
    if (now.dev !== opened.dev || now.ino !== opened.ino) {
      throw new StorageError("gone", `database file ${path} was replaced while open; restart the daemon`);
    }
  };
}
