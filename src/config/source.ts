/**
 * Where the config comes from: a file given with --config, or the embedded dev config.
 * A relative storage.path is resolved against the config file's directory, so the
 * database is the same whatever the current directory of the daemon or an operator
 * command; the embedded dev config keeps it relative to the current directory.
 */
import { dirname, resolve } from "node:path";
import devToml from "./dev.toml" with { type: "text" };
import { ConfigError, loadConfigFile, parseConfigText, type ConfigProblem, type ConfigPurpose, type LoadOptions } from "./load";
import { parseListen, type Config, type OperatorConfig } from "./schema";
import { LOOPBACK_CIDRS } from "./defaults";
import { trustTest } from "../util/cidr";

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
 * The keys holding one of the embedded dev config's secrets: they are public (in this
 * repository and its README), so anyone could sign webhooks or use the admin API.
 */
export function publicDevSecrets(config: Config): string[] {
  const dev = parseConfigText(devToml);
  const keys: string[] = [];
  if (config.whatsapp.app_secrets.some((s) => dev.whatsapp.app_secrets.includes(s))) keys.push("whatsapp.app_secrets");
  if (config.whatsapp.verify_token === dev.whatsapp.verify_token) keys.push("whatsapp.verify_token");
  if (config.admin.token === dev.admin.token) keys.push("admin.token");
  if (config.admin.metrics_token === dev.admin.token) keys.push("admin.metrics_token");
  return keys;
}

const isLoopbackAddress = trustTest(LOOPBACK_CIDRS);
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || isLoopbackAddress(hostname);
}

/** The embedded dev config's public secrets on anything but loopback: a config problem (exit 2), at start, in `check` and on reload alike. */
export function refusePublicDevSecrets(config: Config) {
  const keys = publicDevSecrets(config);
  if (keys.length === 0 || isLoopback(parseListen(config.server.listen)!.hostname)) return;
  throw new ConfigError([
    {
      key: "server.listen",
      reason: `refusing to listen on ${config.server.listen} with the public dev secrets (${keys.join(", ")}: dev-app-secret, dev-verify-token, dev-admin-token-not-secret): anyone could sign webhooks or use the admin API; set your own or listen on loopback`,
    },
  ]);
}
