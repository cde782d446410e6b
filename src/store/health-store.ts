/**
 * The readiness probe's SQL: schema version check plus one tiny durable write.
 * A storage failure is thrown as a classified StorageError, so callers can tell
 * a busy lock from a full disk.
 */
import type { Database } from "bun:sqlite";
import { toStorageError } from "./errors";
import { LATEST_VERSION } from "./migrations";
import { schemaVersion } from "./migrate";
import type { Readiness } from "./types";

export function sqliteProbe(db: Database, now: () => number): () => Readiness {
  const touch = db.prepare(
    "INSERT INTO health_probe (id, probed_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at",
  );
  const write = db.transaction((at: number) => touch.run(at));
  return () => {
    try {
      const version = schemaVersion(db);
      if (version !== LATEST_VERSION) return { ready: false, reason: `schema version ${version}, expected ${LATEST_VERSION}` };
      write.immediate(now());
      return { ready: true };
    } catch (err) {
      throw toStorageError(err);
    }
  };
}
