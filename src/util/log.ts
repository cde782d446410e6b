/**
 * Structured JSON-lines logger on stdout.
 *
 * One line per event, so `journalctl -o cat | jq` works. Callers pass fields, never
 * secrets (nothing here could tell a secret from an id). Personal data is another
 * matter: fields that name a person are hashed here (util/redact.ts), and free-text
 * fields have phone numbers in them hashed, so a call site cannot leak one by mistake.
 */
import { digitsOf, noRedaction, type Redactor } from "./redact";
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  enabled(level: LogLevel): boolean;
  /** A reloaded config's level and redaction, for every holder of this logger at once. */
  configure(level: LogLevel, redact: Redactor): void;
}

export type LogSink = (line: string) => void;

const stdoutSink: LogSink = (line) => process.stdout.write(line + "\n");

/** Fields whose value is a person's wa_id (phone number). */
const PERSON_FIELDS = new Set(["wa_id", "to", "from", "recipient", "contact"]);
/** Fields whose value is a message id: Meta's wamid holds a person's number (redact.ts). */
const MESSAGE_FIELDS = new Set(["wamid"]);
/** Fields of free text that may quote a number: errors, reasons, alert titles, request paths (/v1/contacts/{wa_id}). */
const TEXT_FIELDS = new Set(["error", "reason", "title", "last_error", "path"]);
/**
 * The business's own numbers (its phone number ids and display numbers): not personal,
 * logged in clear, and kept in clear in the same line's free text ("quality of
 * 15550783881 flagged" names the business, not a person).
 */
const BUSINESS_FIELDS = ["phone_number_id", "display_phone_number"];

export function createLogger(level: LogLevel, sink: LogSink = stdoutSink, redact: Redactor = noRedaction): Logger {
  let min = LOG_LEVELS.indexOf(level);
  const enabled = (l: LogLevel) => LOG_LEVELS.indexOf(l) >= min;
  const scrub = (key: string, value: unknown, business: ReadonlySet<string>): unknown => {
    if (value instanceof Error) value = errorReplacer(key, value);
    if (typeof value === "object" && value !== null && TEXT_FIELDS.has(key) && "message" in value) {
      return { ...value, message: redact.text(String((value as { message: unknown }).message), business) };
    }
    if (typeof value !== "string") return value;
    if (PERSON_FIELDS.has(key)) return redact.person(value);
    if (MESSAGE_FIELDS.has(key)) return redact.message(value);
    return TEXT_FIELDS.has(key) ? redact.text(value, business) : value;
  };
  const emit = (l: LogLevel) => (msg: string, fields?: LogFields) => {
    if (!enabled(l)) return;
    const business = new Set(BUSINESS_FIELDS.flatMap((k) => (typeof fields?.[k] === "string" ? [digitsOf(fields[k])] : [])));
    const clean = fields && Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, scrub(k, v, business)]));
    sink(JSON.stringify({ ts: new Date().toISOString(), level: l, msg, ...clean }, errorReplacer));
  };
  const configure = (next: LogLevel, nextRedact: Redactor) => {
    min = LOG_LEVELS.indexOf(next);
    redact = nextRedact;
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error"), enabled, configure };
}

// Error objects stringify to {} by default; keep the message and code instead.
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return code === undefined ? value.message : { message: value.message, code };
  }
  return value;
}

/**
 * What the runtime itself prints (bun:sql's "LISTEN … failed, retrying", a library's
 * warning) as log lines like ours: one stream of JSON lines, so a `jq` pipeline never
 * meets plain text. Its text is free text: a phone number in it is hashed.
 */
export function captureConsole(log: Logger): void {
  const said = (level: "warn" | "error") => (...args: unknown[]) => log[level]("runtime says", { reason: args.map((a) => (typeof a === "string" ? a : a instanceof Error ? a.message : Bun.inspect(a))).join(" ") });
  console.warn = said("warn");
  console.error = said("error");
}
