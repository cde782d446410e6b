import { readFileSync } from "node:fs";
import { ConfigError, maskSecrets } from "../config/load";
import { loadConfig, type SecretAccess } from "../config/source";
import { credentialSources, parseUnitCredentials } from "../config/unit-credentials";
import { printWarnings } from "./warnings";

/**
 * `wa-webhookd check`: validates the config and prints it, secrets masked, with the
 * database's absolute path; warnings go to stderr and do not fail the check. With
 * `--unit`, secrets under the unit's credentials directory are read from the files its
 * LoadCredential= lines name, so the check passes before the service has ever run.
 */
export function runCheck(configPath: string | null, unitPath: string | null): number {
  const { config, origin, warnings } = loadConfig(configPath, "serve", unitPath === null ? {} : unitAccess(unitPath));
  printWarnings(warnings);
  const via = unitPath === null ? "" : `, credentials as ${unitPath} provides them`;
  process.stdout.write(`# ${origin}: ok (database: ${config.storage.path}${via})\n${JSON.stringify(maskSecrets(config), null, 2)}\n`);
  return 0;
}

function unitAccess(unitPath: string): SecretAccess {
  let text: string;
  try {
    text = readFileSync(unitPath, "utf8");
  } catch (err) {
    throw new ConfigError([{ key: "--unit", reason: `cannot read ${unitPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  const unit = parseUnitCredentials(unitPath, text);
  return {
    env: { ...process.env, CREDENTIALS_DIRECTORY: unit.directory },
    readFile: (path) => {
      const sources = credentialSources(unit, path);
      if (sources === null) return readFileSync(path, "utf8");
      for (const source of sources) {
        try {
          return readFileSync(source, "utf8");
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== "ENOENT" || sources.length === 1) throw new Error(`its LoadCredential= source ${source}: ${code ?? (err as Error).message}`);
        }
      }
      throw new Error(`not found in ${sources.join(", ")} (where LoadCredential= with no path looks)`);
    },
  };
}
