/** Where the config comes from: a file given with --config, or the embedded dev config. */
import devToml from "./dev.toml" with { type: "text" };
import { loadConfigFile, parseConfigText } from "./load";
import type { Config } from "./schema";

export interface ConfigSource {
  config: Config;
  /** "embedded dev config" or the file path, for logs. */
  origin: string;
}

export function loadConfig(path: string | null): ConfigSource {
  if (path === null) return { config: parseConfigText(devToml), origin: "embedded dev config" };
  return { config: loadConfigFile(path), origin: path };
}
