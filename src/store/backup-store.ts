/** The SQL of `wa-webhookd backup`: a snapshot copy, and the check of it. */
import type { Database } from "bun:sqlite";

export function backupStore(db: Database) {
  return {
    /** One read snapshot written to a new file; concurrent commits are not in it, nor torn. */
    copyTo: (path: string) => void db.run("VACUUM INTO ?", [path]),
    integrity: () => db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").all().map((r) => r.integrity_check).join("; "),
  };
}
