/**
 * What an operator command that works on the SQLite engine's file says with
 * storage.engine = "postgres", where it does not run in this release: what does its job
 * on that engine instead (the admin API of any instance, or PostgreSQL itself).
 */
export type FileCommand = "replay" | "retry-dead" | "reprocess" | "orphans" | "vacuum";

const INSTEAD: Record<FileCommand, string> = {
  replay: "replay an event with POST /v1/events/{id}/replay on any instance",
  "retry-dead": "retry a dead delivery with POST /v1/deliveries/{id}/retry on any instance",
  reprocess: "process a dead webhook again with POST /v1/inbox/{id}/reprocess on any instance",
  orphans: "GET /v1/stats and GET /v1/deliveries?orphaned=true on any instance show the deliveries of hooks no instance runs",
  vacuum: "PostgreSQL reclaims space itself (autovacuum: docs/deploy.md, \"Several instances on PostgreSQL\")",
};

export function postgresRefusal(command: FileCommand): string {
  return `${command} works on the SQLite engine's file; with storage.engine = "postgres" it is not available in this release: ${INSTEAD[command]}`;
}
