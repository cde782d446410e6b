/**
 * Reads the TOML config, resolves `${ENV}` references and `<key>_file` secrets,
 * then validates with the zod schema. Every failure names the key and the reason;
 * things that are legal but probably not meant are returned as warnings.
 */
import { readFileSync, statSync } from "node:fs";
import { TomlError, parse as parseTomlForPosition } from "smol-toml";
import type { z } from "zod";
import { ConfigSchema, OperatorConfigSchema, POSTGRES_ONLY_KEYS, SECRET_FILE_KEYS, SECRET_KEYS, SQLITE_ONLY_KEYS, type Config, type OperatorConfig } from "./schema";
import { suggestKey } from "./suggest";
import { configWarnings } from "./warnings";

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

/**
 * "serve": the daemon's view, every secret required.
 * "operator": replay/retry-dead/reprocess; secrets are stripped unread.
 */
export type ConfigPurpose = "serve" | "operator";
type ConfigOf<P extends ConfigPurpose> = P extends "serve" ? Config : OperatorConfig;

export interface LoadOptions<P extends ConfigPurpose = "serve"> {
  purpose?: P;
  env?: Record<string, string | undefined>;
  readFile?: (path: string) => string;
  /** Receives legal-but-suspicious findings; default: dropped. */
  warnings?: ConfigProblem[];
  /** The file's permission bits, when it came from a file: secrets in a readable file are flagged. */
  fileMode?: number;
  /** The file's path (or "embedded dev config"), named by problems of the file as a whole. */
  origin?: string;
}

export function loadConfigFile<P extends ConfigPurpose = "serve">(path: string, options: LoadOptions<P> = {}): ConfigOf<P> {
  let text: string;
  let fileMode: number;
  try {
    text = readFileSync(path, "utf8");
    fileMode = statSync(path).mode;
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
    // No file yet: say how one is made.
    const hint = missing ? " (`wa-webhookd init --dir DIR` writes one with fresh secrets; config.example.toml lists every key)" : "";
    throw new ConfigError([{ key: "--config", reason: `cannot read ${path}: ${(err as Error).message}${hint}` }]);
  }
  return parseConfigText(text, { ...options, fileMode, origin: path });
}

export function parseConfigText<P extends ConfigPurpose = "serve">(text: string, options: LoadOptions<P> = {}): ConfigOf<P> {
  const env = options.env ?? process.env;
  const readFile = options.readFile ?? ((p: string) => readFileSync(p, "utf8"));
  const purpose = options.purpose ?? "serve";
  const origin = options.origin ?? "(file)";
  const raw = parseToml(text, origin);
  if (options.fileMode !== undefined && (options.fileMode & 0o044) !== 0 && isRecord(raw) && hasInlineSecret(raw)) {
    options.warnings?.push({
      key: "--config",
      reason: `the file is readable by group or others (mode ${(options.fileMode & 0o777).toString(8).padStart(4, "0")}) and holds secrets inline: chmod 600 it, or use \${ENV} or *_file for the secrets`,
    });
  }
  if (purpose === "operator" && isRecord(raw)) stripSecrets(raw);
  const problems: ConfigProblem[] = [];
  const expanded = expandEnv(raw, "", env, problems, options.warnings ?? []);
  if (isRecord(expanded)) resolveSecretFiles(expanded, readFile, problems);
  const schema = purpose === "serve" ? ConfigSchema : OperatorConfigSchema;
  const result = schema.safeParse(expanded);
  // Every problem at once: a missing variable does not hide a typo elsewhere (its own key's
  // follow-on complaint, e.g. "must not be empty", or "required" after an unreadable *_file, is left out).
  const schemaProblems = result.success ? [] : result.error.issues.flatMap((issue) => describeIssue(issue, expanded, purpose, origin));
  const engineProblems = isRecord(expanded) ? engineKeyProblems(expanded, purpose) : [];
  const covered = (key: string) => problems.some((q) => key === q.key || key === q.key.replace(/_file$/, ""));
  const all = [...problems, ...[...engineProblems, ...schemaProblems].filter((p) => !covered(p.key))];
  if (all.length > 0) throw new ConfigError(all);
  if (purpose === "serve") options.warnings?.push(...configWarnings(result.data as Config));
  return result.data as ConfigOf<P>;
}

/**
 * Each storage engine's own keys, refused with the other engine (a `path` beside a
 * PostgreSQL URL would be silently ignored).
 */
function engineKeyProblems(root: Record<string, unknown>, purpose: ConfigPurpose): ConfigProblem[] {
  const storage = isRecord(root.storage) ? root.storage : {};
  const engine = storage.engine ?? "sqlite";
  if (engine !== "sqlite" && engine !== "postgres") return []; // the schema says what is wrong with it
  const problems: ConfigProblem[] = [];
  const others = engine === "postgres" ? SQLITE_ONLY_KEYS : POSTGRES_ONLY_KEYS;
  for (const key of others) {
    if (key in storage) problems.push({ key: `storage.${key}`, reason: `is a ${engine === "postgres" ? "SQLite" : "PostgreSQL"} setting: not used with storage.engine = "${engine}"${engine === "sqlite" ? ' (set storage.engine = "postgres" to use it)' : ""}` });
  }
  if (engine !== "postgres") return problems;
  if (!("url" in storage)) problems.push({ key: "storage.url", reason: 'is required with storage.engine = "postgres": postgres://user@host:5432/db, or storage.url_file, or "${DATABASE_URL}"' });
  return problems;
}

/**
 * Bun's TOML parser gives no position; when it refuses a file, a second,
 * position-aware parser locates the fault so the message can point at the line.
 */
function parseToml(text: string, origin: string): unknown {
  try {
    return Bun.TOML.parse(text);
  } catch (err) {
    const at = locate(text);
    const said = (err as Error).message.replace(/^TOML Parse error:\s*/, "");
    // Bun's reason may quote the value ('Strings must be quoted: "…"'): never a secret's.
    const reason = at && !mayHoldSecret(at.line) ? said : said.replace(/"[^"]*"/g, '"…"');
    throw new ConfigError([{ key: origin, reason: `invalid TOML: ${reason}${at ? excerpt(at) : ""}` }]);
  }
}

function locate(text: string): { number: number; column: number; line: string } | null {
  try {
    parseTomlForPosition(text);
  } catch (err) {
    if (err instanceof TomlError) return { number: err.line, column: err.column, line: text.split(/\r?\n/)[err.line - 1] ?? "" };
  }
  return null;
}

/**
 * The faulty line, and where on it. A line that may hold a secret (a secret's key, a url,
 * or no key at all: a line of an array) is shown with its letters and digits starred: its
 * quotes, brackets and commas stay, which is what a syntax error is about.
 */
function excerpt({ number, column, line }: { number: number; column: number; line: string }): string {
  const shown = mayHoldSecret(line) ? line.replace(/^(\s*[A-Za-z0-9_-]+\s*=)?(.*)$/, (_, key: string | undefined, value: string) => (key ?? "") + value.replace(/[^\s"'[\]{},=]/g, "*")) : line;
  return ` (line ${number}, column ${column})\n      ${number} | ${shown}\n      ${" ".repeat(String(number).length)} | ${" ".repeat(Math.max(0, column - 1))}^`;
}

function mayHoldSecret(line: string): boolean {
  // A table header ([worker], [[hooks]]) holds no value.
  if (/^\s*\[/.test(line)) return false;
  const key = /^\s*([A-Za-z0-9_-]+)\s*=/.exec(line)?.[1];
  return key === undefined || SECRET_KEYS.has(key.replace(/_file$/, "")) || /url$/.test(key);
}

/** The tables that may hold secrets: [whatsapp], [admin], every [[hooks]]. */
function secretHolders(root: Record<string, unknown>): Record<string, unknown>[] {
  return [root.whatsapp, root.admin, ...(Array.isArray(root.hooks) ? root.hooks : [])].filter(isRecord);
}

/** Operator commands never need secrets: remove them (and their _file forms) before anything reads them. */
function stripSecrets(root: Record<string, unknown>) {
  for (const table of secretHolders(root)) {
    for (const key of Object.keys(table)) {
      if (SECRET_KEYS.has(key.replace(/_file$/, ""))) delete table[key];
    }
  }
}

/** A secret written into the file itself, rather than a `${ENV}` reference or a *_file path. */
function hasInlineSecret(root: Record<string, unknown>): boolean {
  const inline = (v: unknown) => typeof v === "string" && !/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(v);
  return secretHolders(root).some((table) =>
    Object.entries(table).some(([k, v]) => SECRET_KEYS.has(k) && (Array.isArray(v) ? v.some(inline) : inline(v))),
  );
}

/** "whatsapp.app_secrets[0]", "hooks[1].secret": whether the key's own name is a secret's. */
const isSecretKey = (dotted: string) => SECRET_KEYS.has(dotted.replace(/\[\d+\]$/, "").split(".").at(-1)!.replace(/\[\d+\]$/, ""));

const BARE_ENV_REFERENCE = /\$(?!\{)([A-Z_][A-Z0-9_]*)\b/;

/** Replaces `${NAME}` in every string value; a missing variable is an error naming the key. */
function expandEnv(value: unknown, key: string, env: Record<string, string | undefined>, problems: ConfigProblem[], warnings: ConfigProblem[]): unknown {
  if (typeof value === "string") {
    const bare = BARE_ENV_REFERENCE.exec(value);
    if (bare) warnings.push({ key, reason: `"$${bare[1]}" is taken literally; write "\${${bare[1]}}" to read the environment variable` });
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
      const found = env[name];
      if (found === undefined) problems.push({ key, reason: `environment variable ${name} is not set` });
      // A secret's value with a newline after it (`export X=$(cat file)` keeps none, an env file may):
      // trimmed as a *_file secret is, or every signature would differ and every POST be a 401.
      if (found !== undefined && isSecretKey(key) && found !== found.trim()) {
        warnings.push({ key, reason: `environment variable ${name} has whitespace around its value: trimmed` });
        return found.trim();
      }
      return found ?? "";
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, `${key}[${i}]`, env, problems, warnings));
  if (isRecord(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, expandEnv(v, key ? `${key}.${k}` : k, env, problems, warnings)]),
    );
  }
  return value;
}

/** Every table that may hold `<name>_file` for a SECRET_FILE_KEYS entry, with its dotted key. */
function secretTables(root: Record<string, unknown>, section: string): [table: Record<string, unknown>, prefix: string][] {
  const value = root[section];
  if (Array.isArray(value)) return value.flatMap((t, i) => (isRecord(t) ? [[t, `${section}[${i}]`] as [Record<string, unknown>, string]] : []));
  return isRecord(value) ? [[value, section]] : [];
}

function resolveSecretFiles(root: Record<string, unknown>, readFile: (p: string) => string, problems: ConfigProblem[]) {
  for (const [dotted, shape] of Object.entries(SECRET_FILE_KEYS)) {
    const [section, name] = dotted.split(".") as [string, string];
    for (const [table, prefix] of secretTables(root, section)) {
      if (!(`${name}_file` in table)) continue;
      const fileKey = `${prefix}.${name}_file`;
      const path = table[`${name}_file`];
      delete table[`${name}_file`];
      if (name in table) {
        problems.push({ key: fileKey, reason: `set either ${prefix}.${name} or ${fileKey}, not both` });
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
        const code = (err as NodeJS.ErrnoException).code;
        problems.push({ key: fileKey, reason: `cannot read ${path}: ${code ?? (err as Error).message}${code === "ENOENT" ? notRunningHint(path) : ""}` });
        continue;
      }
      const secrets = shape === "single" ? [content.trim()].filter((s) => s !== "") : secretLines(content);
      if (secrets.length === 0) {
        problems.push({ key: fileKey, reason: `${path} holds no secret (only blank lines${shape === "lines" ? " and # comments" : ""})` });
        continue;
      }
      table[name] = shape === "single" ? secrets[0] : secrets;
    }
  }
}

/** A credential path of a unit that is not running (a fresh server): `check --unit` reads its sources instead. */
function notRunningHint(path: string): string {
  const unit = /^\/run\/credentials\/([^/]+)\//.exec(path)?.[1];
  return unit ? ` (systemd makes that directory only while ${unit} runs; before that, check with --unit /etc/systemd/system/${unit})` : "";
}

function secretLines(content: string): string[] {
  return content
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

function describeIssue(issue: z.core.$ZodIssue, given: unknown, purpose: ConfigPurpose, origin: string): ConfigProblem[] {
  const key = formatPath(issue.path);
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((k) => {
      const suggestion = suggestKey(purpose === "serve" ? ConfigSchema : OperatorConfigSchema, issue.path, k);
      return { key: key ? `${key}.${k}` : k, reason: suggestion ? `unknown key; did you mean "${suggestion}"?` : "unknown key" };
    });
  }
  if (issue.code === "invalid_type") {
    const own = !issue.message.startsWith("Invalid input"); // the schema's own words for this key
    if (valueAt(given, issue.path) === undefined) return [{ key, reason: `is required${own ? `: ${issue.message}` : (REQUIRED_TABLE_HINTS[key] ?? "")}` }];
    return [{ key: key || origin, reason: own ? issue.message : typeAdvice(key, issue.expected) }];
  }
  if (issue.code === "too_small" && issue.origin === "array" && issue.message.startsWith("Too small")) return [{ key, reason: `must list at least ${Number(issue.minimum)}` }];
  // zod's own words ("Too small: expected number to be >=1024") said as the rest of the config's are.
  if ((issue.code === "too_small" || issue.code === "too_big") && issue.origin === "number") {
    const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
    return [{ key, reason: `must be ${issue.code === "too_small" ? "at least" : "at most"} ${Number(bound).toLocaleString("en")}` }];
  }
  // "Invalid option: expected one of "a"|"b"" (an enum: log.level, fallback.mode…) said as the rest of the config's are.
  if (issue.code === "invalid_value") return [{ key, reason: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}` }];
  return [{ key: key || origin, reason: issue.message }];
}

/** A table left out says what goes in it. */
const REQUIRED_TABLE_HINTS: Record<string, string> = {
  whatsapp: " (a [whatsapp] table with verify_token and app_secrets, or their *_file forms)",
  admin: " (an [admin] table with token, at least 16 characters, or token_file)",
};

/**
 * zod's "expected number, received string" said as what to write. Values are not
 * echoed: the key may hold a secret.
 */
function typeAdvice(key: string, expected: string): string {
  if (key === "hooks" && expected === "array") return "must be a list of tables: write [[hooks]] (two brackets) above each hook";
  switch (expected) {
    case "number":
      return "must be a number, written without quotes (an ${ENV} reference is read only inside a string setting)";
    case "int":
      return "must be a whole number, written without quotes";
    case "boolean":
      return "must be true or false, written without quotes";
    case "string":
      return 'must be text in quotes ("…")';
    case "array":
      return 'must be a list in brackets: ["…"]';
    case "object":
      return "must be a table ([name] above its keys, or { key = value })";
  }
  return `must be of type ${expected}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((at, part) => (at !== null && typeof at === "object" ? (at as Record<PropertyKey, unknown>)[part] : undefined), root);
}

function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((acc, part) => {
    if (typeof part === "number") return `${acc}[${part}]`;
    return acc ? `${acc}.${String(part)}` : String(part);
  }, "");
}

/**
 * The config with every secret replaced by a mask, for `check` and startup logs;
 * credentials written into a URL (https://user:pass@host) are masked too.
 */
export function maskSecrets(value: unknown, key = ""): unknown {
  if (SECRET_KEYS.has(key)) {
    return Array.isArray(value) ? value.map(() => "********") : "********";
  }
  // Header values carry the SMS provider's credentials; so do a form body's constant fields
  // (api_key, api_secret: no {{placeholder}} in them), where the message's own fields do not.
  if (key === "headers" && isRecord(value)) return Object.fromEntries(Object.keys(value).map((k) => [k, "********"]));
  if (key === "body" && isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === "string" && v.includes("{{") ? v : "********"]));
  if (typeof value === "string") return maskUrlSecrets(value);
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v));
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v, k)]));
  return value;
}

export function maskUrlCredentials(text: string): string {
  return text
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*)@/i, (_m, scheme: string, userinfo: string) => {
      const user = userinfo.split(":")[0] ?? "";
      if (userinfo.includes(":")) return `${scheme}${user}:********@`;
      // A PostgreSQL URL's bare userinfo is the role (its password, if any, is elsewhere); an HTTP one's may be a token.
      return `${scheme}${/^postgres(ql)?:\/\/$/i.test(scheme) ? user : "********"}@`;
    })
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^?#]*\?(?:[^#]*&)?password=)[^&#]*/i, "$1********");
}

/** A path segment this long may be a token (Slack's and Discord's webhook URLs carry theirs in the path). */
const TOKEN_SEGMENT_CHARS = 16;

/**
 * A URL as `check` shows it: credentials in the userinfo, every query value (`?token=…`,
 * `?apikey=…`) and every path segment long enough to be a token masked; the scheme, host
 * and short segments (`/whatsapp-events`) stay, which is what an operator checks.
 */
export function maskUrlSecrets(text: string): string {
  const url = /^(https?:\/\/[^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/i.exec(text);
  if (!url) return maskUrlCredentials(text);
  const [, origin, path, query] = url as unknown as [string, string, string, string | undefined];
  const segments = path.split("/").map((seg) => (seg.length >= TOKEN_SEGMENT_CHARS ? "********" : seg));
  const params = query?.slice(1).split("&").map((p) => (p.includes("=") ? `${p.slice(0, p.indexOf("="))}=********` : p));
  return `${maskUrlCredentials(origin)}${segments.join("/")}${params ? `?${params.join("&")}` : ""}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
