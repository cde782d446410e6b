/**
 * Copies of a SQLite file into this database (migrations/postgres/0003): a copy begins
 * only into an empty database or resumes its own; a finished one records its counts.
 */
import type { SQL } from "bun";
import type { CopyReport } from "./copy-from-sqlite";

export function storageCopies(sql: SQL) {
  return {
    /** Null when the copy may go on (a new one into an empty database, or this file's own resumed); else why not. */
    async begin(source: string, now: number): Promise<string | null> {
      return sql.begin(async (tx) => {
        await tx`LOCK TABLE storage_copies IN EXCLUSIVE MODE`;
        const copies = [...(await tx`SELECT source, finished_at::float8 AS finished_at FROM storage_copies`)] as { source: string; finished_at: number | null }[];
        const other = copies.find((c) => c.source !== source);
        if (other) return `this database already holds a copy of ${other.source}; copy into an empty database`;
        const own = copies[0];
        if (own?.finished_at != null) {
          // Checked again or resumed, unless instances have used it since (stored a webhook,
          // processed one, sent a delivery): then it is no longer the file's copy, and what the
          // file holds since would be merged into what the instances made of the same webhooks.
          // (Rows a resume copied are the file's: marked migrate-storage, older than its finish.)
          const [{ used }] = await tx`
            SELECT EXISTS (SELECT 1 FROM inbox WHERE instance <> 'migrate-storage' OR processed_at > ${own.finished_at})
                OR EXISTS (SELECT 1 FROM deliveries WHERE updated_at > ${own.finished_at}) AS used`;
          if (used) return `${source} was copied here already (finished ${new Date(own.finished_at).toISOString()}) and instances have used this database since (stored, processed or delivered webhooks): it is theirs now, nothing to resume; copy into an empty database to start over`;
        }
        if (own) return null; // this file's own copy: resumed (or checked again)
        const [{ rows }] = await tx`SELECT (SELECT count(*) FROM (SELECT 1 FROM inbox LIMIT 1) i) + (SELECT count(*) FROM (SELECT 1 FROM events LIMIT 1) e) AS rows`;
        if (Number(rows) > 0) return "the database is not empty (instances have stored webhooks in it); copy into an empty database";
        await tx`INSERT INTO storage_copies (source, started_at) VALUES (${source}, ${now})`;
        return null;
      });
    },
    finish: async (source: string, now: number, report: CopyReport) =>
      void (await sql`UPDATE storage_copies SET finished_at = ${now}, counts = ${JSON.stringify(report)} WHERE source = ${source}`),
  };
}
