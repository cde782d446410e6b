/**
 * What `wa-webhookd backup` says on the PostgreSQL engine: the database is backed up
 * with pg_dump (or the server's own backups), not by this command, which copies the
 * SQLite engine's file. The pg_dump command for the configured database is spelled out,
 * its password masked: it is printed, and terminals and CI logs keep what they print.
 */

/**
 * The URL with its password (in the user info or a `password=` parameter) masked, the
 * user kept: pg_dump needs to know who connects, and a password-less URL stays runnable.
 */
export function maskPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*):[^/?#]*@/i, "$1:********@").replace(/([?&]password=)[^&#]*/i, "$1********");
}

/** A value for a POSIX shell, quoted only when it needs to be (a masked password's * does). */
const shellWord = (s: string) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export function pgDumpAdvice(url: string, out: string): string {
  const masked = maskPassword(url);
  const command = `pg_dump --format=custom --file=${shellWord(out)} --dbname=${shellWord(masked)}`;
  const password = masked === url ? "" : "; give it the password through ~/.pgpass or PGPASSWORD (or in place of ********)";
  return (
    `backup: with storage.engine = "postgres" the database is backed up with pg_dump, not with this command (it copies the SQLite engine's file). For this config:\n` +
    `  ${command}\n` +
    `pg_dump reads one consistent snapshot while the instances keep writing${password}; restore into an empty database with pg_restore (docs/deploy.md, "Several instances on PostgreSQL")`
  );
}
