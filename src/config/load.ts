/**
 * Reads the TOML config, resolves `${ENV}` references and `<key>_file` secrets,
 * then validates with the zod schema. Every failure names the key and the reason.
 */
import { readFileSync } from "node:fs";
import type { z } from "zod";
import { ConfigSchema, SECRET_FILE_KEYS, SECRET_KEYS, type Config } from "./schema";

export interface ConfigProblem {
  key: string;
  reason: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map((p) => `${p.key}: ${p.reason}`).join("\n"));
    this.name = "ConfigError";
  }
}

export interface LoadOptions {
  env?: Record<string, string | undefined>;
  readFile?: (path: string) => string;
}

export function loadConfigFile(path: string, options: LoadOptions = {}): Config {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError([{ key: "--config", reason: `cannot read ${path}: ${(err as Error).message}` }]);
  }
  return parseConfigText(text, options);
}

export function parseConfigText(text: string, options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const readFile = options.readFile ?? ((p: string) => readFileSync(p, "utf8"));
  let raw: unknown;
  try {
    raw = Bun.TOML.parse(text);
  } catch (err) {
    throw new ConfigError([{ key: "(file)", reason: `invalid TOML: ${(err as Error).message}` }]);
  }
  const problems: ConfigProblem[] = [];
  const expanded = expandEnv(raw, "", env, problems);
  if (isRecord(expanded)) resolveSecretFiles(expanded, readFile, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  const result = ConfigSchema.safeParse(expanded);
  if (!result.success) throw new ConfigError(result.error.issues.flatMap(describeIssue));
  return result.data;
}

/** Replaces `${NAME}` in every string value; a missing variable is an error naming the key. */
function expandEnv(value: unknown, key: string, env: LoadOptions["env"] & {}, problems: ConfigProblem[]): unknown {
  if (typeof value === "string") {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
      const found = env[name];
      if (found === undefined) problems.push({ key, reason: `environment variable ${name} is not set` });
      return found ?? "";
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, `${key}[${i}]`, env, problems));
  if (isRecord(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, expandEnv(v, key ? `${key}.${k}` : k, env, problems)]),
    );
  }
  return value;
}

function resolveSecretFiles(root: Record<string, unknown>, readFile: (p: string) => string, problems: ConfigProblem[]) {
  for (const [dotted, shape] of Object.entries(SECRET_FILE_KEYS)) {
    const [section, name] = dotted.split(".") as [string, string];
    const table = root[section];
    if (!isRecord(table) || !(`${name}_file` in table)) continue;
    const fileKey = `${dotted}_file`;
    const path = table[`${name}_file`];
    delete table[`${name}_file`];
    if (name in table) {
      problems.push({ key: fileKey, reason: `set either ${dotted} or ${fileKey}, not both` });
      continue;
    }
    if (typeof path !== "string" || path === "") {
      problems.push({ key: fileKey, reason: "expected a file path" });
      continue;
    }
    let content: string;
    try {
      content = readFile(path);
    } catch (err) {
      problems.push({ key: fileKey, reason: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      continue;
    }
    table[name] = shape === "single" ? content.trim() : secretLines(content);
  }
}

function secretLines(content: string): string[] {
  return content
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

function describeIssue(issue: z.core.$ZodIssue): ConfigProblem[] {
  const key = formatPath(issue.path);
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((k) => ({ key: key ? `${key}.${k}` : k, reason: "unknown key" }));
  }
  if (issue.code === "invalid_type" && issue.message.includes("received undefined")) {
    return [{ key, reason: "is required" }];
  }
  return [{ key: key || "(file)", reason: issue.message }];
}

function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((acc, part) => {
    if (typeof part === "number") return `${acc}[${part}]`;
    return acc ? `${acc}.${String(part)}` : String(part);
  }, "");
}

/** The config with every secret replaced by a mask, for `check` and startup logs. */
export function maskSecrets(value: unknown, key = ""): unknown {
  if (SECRET_KEYS.has(key)) {
    return Array.isArray(value) ? value.map(() => "********") : "********";
  }
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v));
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v, k)]));
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
