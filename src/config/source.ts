/**
 * Where the config comes from: a file given with --config, or the embedded dev config.
 * A relative storage.path is resolved against the config file's directory, so the
 * database is the same whatever the current directory of the daemon or an operator
 * command; the embedded dev config keeps it relative to the current directory.
 */
import { dirname, resolve } from "node:path";
import devToml from "./dev.toml" with { type: "text" };
import { loadConfigFile, parseConfigText, type ConfigProblem, type ConfigPurpose, type LoadOptions } from "./load";
import type { Config, OperatorConfig } from "./schema";

export const DEV_CONFIG_ORIGIN = "embedded dev config";

export interface ConfigSource<C> {
  config: C;
  /** "embedded dev config" or the file path, for logs. */
  origin: string;
  warnings: ConfigProblem[];
}

/** How `*_file` secrets and `${ENV}` are read; `check --unit` reads them as the unit would provide them. */
export type SecretAccess = Pick<LoadOptions, "env" | "readFile">;

export function loadConfig(path: string | null, purpose?: "serve", access?: SecretAccess): ConfigSource<Config>;
export function loadConfig(path: string | null, purpose: "operator"): ConfigSource<OperatorConfig>;
export function loadConfig(path: string | null, purpose: ConfigPurpose = "serve", access: SecretAccess = {}): ConfigSource<Config | OperatorConfig> {
  const warnings: ConfigProblem[] = [];
  const config =
    path === null
      ? parseConfigText(devToml, { purpose, warnings, origin: DEV_CONFIG_ORIGIN })
      : loadConfigFile(path, { purpose, warnings, ...access });
  const baseDir = path === null ? process.cwd() : dirname(resolve(path));
  config.storage.path = resolve(baseDir, config.storage.path);
  return { config, origin: path ?? DEV_CONFIG_ORIGIN, warnings };
}

/**
 * True when the config uses the embedded dev config's app secret or verify token:
 * they are public (in this repository), so anyone could sign webhooks.
 */
export function usesPublicDevSecrets(config: Config): boolean {
  const dev = parseConfigText(devToml);
  return config.whatsapp.app_secrets.some((s) => dev.whatsapp.app_secrets.includes(s)) || config.whatsapp.verify_token === dev.whatsapp.verify_token;
}
