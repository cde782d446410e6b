#!/usr/bin/env bun
/** Entry point: flags → command. Config and usage errors exit 2, runtime failures 1. */
import { parseCommand, USAGE } from "./cli/args";
import { runCheck } from "./cli/check";
import { runJobsCommand } from "./cli/jobs";
import { runTail } from "./cli/tail";
import { runVacuum } from "./cli/vacuum";
import { runBackup } from "./cli/backup";
import { runStats } from "./cli/stats";
import { runInit } from "./cli/init";
import { listSamples, runSendTest } from "./cli/send-test";
import { OperatorError, runOperatorCommand, UsageError } from "./cli/operator";
import { runServe, StartupError } from "./cli/serve";
import { runSign } from "./cli/sign";
import { printWarnings } from "./cli/warnings";
import { ConfigError } from "./config/load";
import { loadConfig } from "./config/source";
import { StorageError } from "./store/errors";
import { VERSION } from "./version";
import { ReplayError } from "./worker/replay";

async function main(argv: string[]): Promise<number | null> {
  const command = parseCommand(argv);
  switch (command.kind) {
    case "usage_error":
      return usage(command.message);
    case "help":
      process.stdout.write(USAGE + "\n");
      return 0;
    case "version":
      process.stdout.write(`wa-webhookd ${VERSION}\n`);
      return 0;
    case "check":
      return runCheck(command.config);
    case "sign":
      return runSign(command.config, command.secret);
    case "replay":
    case "retry-dead":
    case "reprocess":
    case "orphans": {
      const { config, warnings } = loadConfig(command.config, "operator");
      printWarnings(warnings);
      return runOperatorCommand(config, command);
    }
    case "jobs": {
      const { config, warnings } = loadConfig(command.config);
      printWarnings(warnings);
      return runJobsCommand(config, command);
    }
    case "tail": {
      const { config, warnings } = loadConfig(command.config, "operator");
      printWarnings(warnings);
      return runTail(config, command.type, command.json);
    }
    case "init":
      return runInit(command.dir);
    case "send-test": {
      if (command.list) return listSamples();
      const { config, warnings } = loadConfig(command.config);
      printWarnings(warnings);
      return runSendTest(config, command.type!, command.to, command.count);
    }
    case "backup": {
      const { config, warnings } = loadConfig(command.config, "operator");
      printWarnings(warnings);
      return runBackup(config, command.out, command.json);
    }
    case "stats": {
      const { config, warnings } = loadConfig(command.config, "operator");
      printWarnings(warnings);
      return runStats(config, command.json);
    }
    case "vacuum": {
      const { config, warnings } = loadConfig(command.config, "operator");
      printWarnings(warnings);
      return runVacuum(config, command.json);
    }
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

function usage(message: string): number {
  process.stderr.write(`wa-webhookd: ${message}\n\n${USAGE}\n`);
  return 2;
}

try {
  const code = await main(process.argv.slice(2));
  if (code !== null) process.exit(code);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`wa-webhookd: config error\n${err.problems.map((p) => `  ${p.key}: ${p.reason}`).join("\n")}\n`);
    process.exit(2);
  }
  if (err instanceof UsageError) process.exit(usage(err.message));
  if (err instanceof ReplayError || err instanceof OperatorError || err instanceof StorageError) {
    process.stderr.write(`wa-webhookd: ${err.message}\n`);
    process.exit(1);
  }
  if (err instanceof StartupError) {
    process.stderr.write(`wa-webhookd: cannot start: ${err.message}\n`);
    process.stdout.write(JSON.stringify({ ts: new Date().toISOString(), level: "error", msg: "cannot start", key: err.key, error: err.message }) + "\n");
    process.exit(1);
  }
  process.stderr.write(`wa-webhookd: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
