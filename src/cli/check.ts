import { maskSecrets } from "../config/load";
import { loadConfig } from "../config/source";

/** `wa-webhookd check`: validates the config and prints it, secrets masked. */
export function runCheck(configPath: string | null): number {
  const { config, origin } = loadConfig(configPath);
  process.stdout.write(`# ${origin}: ok\n${JSON.stringify(maskSecrets(config), null, 2)}\n`);
  return 0;
}
