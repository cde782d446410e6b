/**
 * `replay`, `retry-dead`, `reprocess`: operator commands on the database. They only
 * (re)queue rows; the running daemon (or the next start) does the work.
 */
import { BACKGROUND_BUSY_TIMEOUT_MS } from "../config/defaults";
import type { Config } from "../config/schema";
import { openDatabase } from "../store/db";
import { migrate } from "../store/migrate";
import { ConfigError } from "../config/load";
import { replayEvents, reprocessDeadInbox, retryDeadDeliveries } from "../worker/replay";
import type { Command } from "./args";

type OpsCommand = Extract<Command, { kind: "replay" | "retry-dead" | "reprocess" }>;

export function runOps(config: Config, command: OpsCommand): number {
  const db = openDatabase(config.storage.path, { synchronous: config.storage.synchronous, busyTimeoutMs: BACKGROUND_BUSY_TIMEOUT_MS, autoCheckpoint: true });
  try {
    migrate(db);
    const now = Date.now();
    let result: Record<string, number>;
    switch (command.kind) {
      case "replay":
        result = {
          queued: replayEvents(
            db,
            config.hooks,
            {
              ...(command.event !== null && { eventId: command.event }),
              ...(command.type !== null && { type: command.type }),
              ...(command.since !== null && { since: isoTime("--since", command.since) }),
              ...(command.until !== null && { until: isoTime("--until", command.until) }),
              ...(command.hook !== null && { hook: command.hook }),
            },
            now,
          ),
        };
        break;
      case "retry-dead":
        result = { retried: retryDeadDeliveries(db, now, command.hook ?? undefined) };
        break;
      case "reprocess":
        result = { revived: reprocessDeadInbox(db, command.inbox === null ? undefined : Number(command.inbox)) };
    }
    process.stdout.write(JSON.stringify(result) + "\n");
    return 0;
  } finally {
    db.close();
  }
}

function isoTime(flag: string, text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new ConfigError([{ key: flag, reason: `expected an ISO 8601 time, got "${text}"` }]);
  return ms;
}
