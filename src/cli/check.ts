import { maskSecrets } from "../config/load";
import { loadConfig } from "../config/source";
import { printWarnings } from "./warnings";

/**
 * `wa-webhookd check`: validates the config and prints it, secrets masked, with the
 * database's absolute path; warnings go to stderr and do not fail the check.
 */
export function runCheck(configPath: string | null): number {
  const { config, origin, warnings } = loadConfig(configPath);
  printWarnings(warnings);
  process.stdout.write(`# ${origin}: ok (database: ${config.storage.path})\n${JSON.stringify(maskSecrets(config), null, 2)}\n`);
  return 0;
}
