/**
 * What an operator command that works on the SQLite engine's file only says with
 * storage.engine = "postgres", where it does not run: what does its job on that engine
 * instead (PostgreSQL itself).
 */
export type FileCommand = "vacuum" | "log-gap";

const INSTEAD: Record<FileCommand, string> = {
  vacuum: "PostgreSQL reclaims space itself (autovacuum: docs/deploy.md, \"Several instances on PostgreSQL\")",
  "log-gap": "instances commit webhooks to PostgreSQL before they answer; there is no inbox log to lose them from",
};

export function postgresRefusal(command: FileCommand): string {
  return `${command} works on the SQLite engine's file; with storage.engine = "postgres" it is not available in this release: ${INSTEAD[command]}`;
}
