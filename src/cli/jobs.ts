/**
 * `wa-webhookd jobs list|run NAME --config F`: the daemon's scheduled jobs, run here
 * and now on the database, with or without a running daemon: the job's lease in
 * SQLite keeps this run and the daemon's from overlapping. The same Jobs as
 * GET /v1/jobs and POST /v1/jobs/{name}/run. The full config is read (`fallback`
 * and `alerts` send, so their secrets must be in the environment, as for the daemon).
 */
import { hostname } from "node:os";
import type { Config } from "../config/schema";
import { buildSweeper } from "../sweeper/start";
import { systemClock } from "../util/clock";
import { createLogger } from "../util/log";
import { redactionKey, redactorFor } from "../util/redact";
import type { Command } from "./args";
import { openExisting, OperatorError, UsageError } from "./operator";

export async function runJobsCommand(config: Config, command: Extract<Command, { kind: "jobs" }>): Promise<number> {
  const json = command.json;
  const db = openExisting(config.storage.path, config.storage.synchronous);
  try {
    // Log lines go to stderr: stdout is the answer.
    const log = createLogger(config.log.level, (line) => process.stderr.write(line + "\n"), redactorFor(redactionKey(config.log, config.admin.token)));
    const { jobs } = buildSweeper(db, config, systemClock, log, `${hostname()}-cli-${process.pid}`);
    if (command.action === "list") {
      const list = jobs.list();
      const line = (j: (typeof list)[number]) =>
        `${j.name.padEnd(10)} ${j.schedule.padEnd(16)} next ${j.next_run ?? "-"}  last ${j.last_finished_at ?? "never"}${j.last_error ? `  ${j.last_error}` : j.last_result ? `  ${JSON.stringify(j.last_result)}` : ""}`;
      process.stdout.write((json ? JSON.stringify(list) : list.map(line).join("\n")) + "\n");
      return 0;
    }
    if (!jobs.names().includes(command.name)) throw new UsageError(`jobs run: no job named "${command.name}" with this config; the jobs are ${jobs.names().join(", ")}`);
    const run = await jobs.run(command.name);
    if (!run.ran) throw new OperatorError(`jobs run ${command.name}: not run: ${run.reason}`);
    process.stdout.write((json ? JSON.stringify(run) : `jobs run ${command.name}: ${JSON.stringify(run.result)} in ${run.duration_ms} ms`) + "\n");
    return 0;
  } finally {
    db.close();
  }
}
