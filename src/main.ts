#!/usr/bin/env bun
/** Entry point: flags → command. Config and usage errors exit 2, runtime failures 1. */
import { fstatSync } from "node:fs";
import { commandUsage, parseCommand, USAGE, type Command, type Subcommand } from "./cli/args";
import { runCheck } from "./cli/check";
import { runJobsCommand } from "./cli/jobs";
import { runTail } from "./cli/tail";
import { runVacuum } from "./cli/vacuum";
import { runLogGap } from "./cli/log-gap";
import { runMigrateStorage } from "./cli/migrate-storage";
import { runBackup } from "./cli/backup";
import { runStats } from "./cli/stats";
import { runInit } from "./cli/init";
import { listSamples, runSendTest } from "./cli/send-test";
import { OperatorError, runOperatorCommand, UsageError } from "./cli/operator";
import { runServe, StartupError } from "./cli/serve";
import { runSign } from "./cli/sign";
import { printWarnings } from "./cli/warnings";
import { postgresRefusal, type FileCommand } from "./cli/postgres-refusal";
import { runPostgresRequeue } from "./cli/postgres-requeue";
import { ConfigError } from "./config/load";
import type { Config, OperatorConfig } from "./config/schema";
import { DEV_CONFIG_ORIGIN, loadConfig, type ConfigSource } from "./config/source";
import { StorageError } from "./store/errors";
import { VERSION } from "./version";
import { ReplayError } from "./domain/replay";

async function main(command: Command): Promise<number | null> {
  switch (command.kind) {
    case "usage_error":
      return usage(command.message, command.command);
    case "help":
      process.stdout.write(USAGE + "\n");
      return 0;
    case "version":
      process.stdout.write(`wa-webhookd ${VERSION}\n`);
      return 0;
    case "check":
      return runCheck(command.config, command.unit);
    case "sign":
      return runSign(command.config, command.secret);
    case "replay":
    case "retry-dead":
    case "reprocess":
    case "orphans": {
      const config = operatorConfig(command.config, null);
      return config.storage.engine === "postgres" ? runPostgresRequeue(config, command) : runOperatorCommand(config, command);
    }
    case "jobs":
      return runJobsCommand(fullConfig(command.config), command);
    case "tail":
      return runTail(operatorConfig(command.config, null), command.type, command.json);
    case "init":
      return runInit(command.dir);
    case "send-test":
      if (command.list) return listSamples();
      // Over HTTP to the running daemon: any engine.
      return runSendTest(said(loadConfig(command.config)), command.type!, command.to, command.count, command.target);
    case "backup":
      return runBackup(operatorConfig(command.config, null), command.out, command.json);
    case "stats":
      return runStats(operatorConfig(command.config, null), command.json);
    case "vacuum":
      return runVacuum(operatorConfig(command.config, command.kind), command.json);
    case "log-gap":
      return runLogGap(operatorConfig(command.config, command.kind), command.skip, command.json);
    case "migrate-storage":
      return runMigrateStorage(said(loadConfig(command.config, "operator")), command.from, command.json);
    case "serve": {
      const read = () => {
        const source = loadConfig(command.config);
        if (command.listen !== null) source.config.server.listen = command.listen;
        return source;
      };
      await runServe(read(), read);
      return null; // keeps running until a signal
    }
  }
}

/** A command's config, its warnings on stderr, and a note when it is the embedded dev config (no --config). */
function fullConfig(path: string | null): Config {
  return said(loadConfig(path));
}

/** `fileOnly`: a command that works on the SQLite engine's file only (refused on PostgreSQL, saying what does its job there); null: any engine. */
function operatorConfig(path: string | null, fileOnly: FileCommand | null): OperatorConfig {
  return said(loadConfig(path, "operator"), fileOnly);
}

function said<C extends OperatorConfig>({ config, origin, warnings }: ConfigSource<C>, fileOnly: FileCommand | null = null): C {
  printWarnings(warnings);
  if (config.storage.engine === "postgres" && fileOnly !== null) throw new OperatorError(postgresRefusal(fileOnly));
  if (origin === DEV_CONFIG_ORIGIN) process.stderr.write(`wa-webhookd: no --config: using the ${DEV_CONFIG_ORIGIN} (database ${config.storage.path})\n`);
  return config;
}

function sameFile(fd: number, other: number): boolean {
  const [a, b] = [fstatSync(fd), fstatSync(other)];
  return a.dev === b.dev && a.ino === b.ino && a.rdev === b.rdev;
}

function usage(message: string, command: Subcommand | null): number {
  process.stderr.write(`wa-webhookd: ${message}\n\n${commandUsage(command)}\n`);
  return 2;
}

// What the daemon and its commands write (database, WAL, inbox log, backups) holds people's
// numbers and messages: owner-only whatever the shell's umask (systemd's unit sets the same).
process.umask(0o077);
const command = parseCommand(process.argv.slice(2));
/** server.listen given by `--listen` is that flag's problem, not the file's. */
const keyAsGiven = (key: string) => (key === "server.listen" && command.kind === "serve" && command.listen !== null ? "--listen (overrides server.listen)" : key);
try {
  const code = await main(command);
  if (code !== null) process.exit(code);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`wa-webhookd: config error\n${err.problems.map((p) => `  ${keyAsGiven(p.key)}: ${p.reason}`).join("\n")}\n`);
    process.exit(2);
  }
  if (err instanceof UsageError) process.exit(usage(err.message, command.kind === "usage_error" ? command.command : command.kind));
  if (err instanceof ReplayError || err instanceof OperatorError || err instanceof StorageError) {
    process.stderr.write(`wa-webhookd: ${err.message}\n`);
    process.exit(1);
  }
  if (err instanceof StartupError) {
    // Said once where stdout and stderr are one place: plain at a terminal, a JSON log line in the journal.
    const onePlace = sameFile(1, 2);
    const message = `${keyAsGiven(err.key)}: ${err.reason}`;
    if (!onePlace || process.stderr.isTTY) process.stderr.write(`wa-webhookd: cannot start: ${message}\n`);
    if (!onePlace || !process.stderr.isTTY) process.stdout.write(JSON.stringify({ ts: new Date().toISOString(), level: "error", msg: "cannot start", key: keyAsGiven(err.key), error: message }) + "\n");
    process.exit(1);
  }
  process.stderr.write(`wa-webhookd: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
