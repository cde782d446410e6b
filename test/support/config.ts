/** Config-test helper: the problems a config text is refused with, as "key: reason" lines. */
import { expect } from "bun:test";
import { ConfigError, parseConfigText, type ConfigPurpose } from "../../src/config/load";

export function configProblems(text: string, env: Record<string, string> = {}, purpose: ConfigPurpose = "serve"): string[] {
  try {
    parseConfigText(text, { env, purpose });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => `${p.key}: ${p.reason}`);
  }
  throw new Error("expected a ConfigError");
}
