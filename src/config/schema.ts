/**
 * The config file's shape: the single source of truth for its keys, defaults and types.
 * The keys are a public contract (extend, don't rename); config.example.toml documents them.
 */
import { z } from "zod";
import * as d from "./defaults";
import { parseDuration } from "./duration";
import { LOG_LEVELS } from "../util/log";
import { matchesKnownType, unknownTypeMessage } from "../events/type-glob";
import { Cron } from "croner";
import { ALERT_KINDS } from "../domain/alert";
import { FALLBACK_WAIT_TOO_LONG, withinFallbackWait } from "../domain/fallback-limits";
import { CATEGORY_EXPECTED, isFallbackCategory } from "../domain/fallback-policy";
import { normalizeCategory } from "../domain/pricing";
import { parseCidr } from "../util/cidr";
import { SMS_PLACEHOLDERS, unknownPlaceholders } from "../domain/sms-template";

const duration = z
  .string({
    // TOML numbers are the usual slip here: say exactly what to write instead.
    error: (issue) =>
      typeof issue.input === "number" ? `expected a duration string: write "${issue.input}s"` : 'expected a duration such as "500ms", "10s", "5m", "2h" or "30d"',
  })
  .refine((s) => parseDuration(s) !== null, {
    message: 'expected a duration such as "500ms", "10s", "5m", "2h" or "30d"',
  });

/** A duration no shorter than `min` (0 would turn a timeout, lease or interval into a busy loop or an instant failure). */
const atLeast = (min: string) =>
  // An unreadable duration is said once, by `duration`.
  duration.refine((s) => (parseDuration(s) ?? Infinity) >= parseDuration(min)!, { message: `must be at least "${min}"` });

/** The longest timer Bun (like Node) keeps: 2^31 − 1 ms, ~24.8 days. A longer one fires after 1 ms. */
const TIMER_MAX_MS = 2 ** 31 - 1;
/** A duration some timer waits for (a timeout, an interval, a lease): at most TIMER_MAX_MS. */
const timer = (d: typeof duration) => d.refine((s) => (parseDuration(s) ?? 0) <= TIMER_MAX_MS, { message: 'must be at most "24d" (a longer timer would fire at once)' });

const listen = z.string().refine((s) => parseListen(s) !== null, {
  message: 'expected "host:port", e.g. "127.0.0.1:8080" or "[::1]:8080"',
});

const secret = z.string().min(1, "must not be empty");

/** Paths the daemon serves itself; the webhook cannot take them over. */
const RESERVED_PATHS = ["/healthz", "/readyz", "/metrics", "/docs", "/console", "/v1"];
const isReserved = (path: string) => RESERVED_PATHS.some((r) => path === r || path.startsWith(`${r}/`));

export const ServerSchema = z
  .strictObject({
    listen: listen.default(d.DEFAULT_LISTEN),
    webhook_path: z
      .string()
      .regex(/^\/[A-Za-z0-9._~\-\/]*$/, 'expected an absolute URL path such as "/webhook"')
      .default(d.DEFAULT_WEBHOOK_PATH),
    max_body_bytes: z.int().min(1024).max(d.MAX_MAX_BODY_BYTES).default(d.DEFAULT_MAX_BODY_BYTES),
    shutdown_timeout: timer(duration).default(d.DEFAULT_SHUTDOWN_TIMEOUT),
    /** Peers whose X-Forwarded-For is believed (Caddy on the same host by default). */
    trusted_proxies: z
      .array(z.string().refine((s) => parseCidr(s) !== null, { message: 'expected an IP address or CIDR, e.g. "127.0.0.0/8" or "::1/128"' }))
      .default([...d.DEFAULT_TRUSTED_PROXIES]),
    max_inflight_bytes: z.int().min(1024).max(4 * 1024 * 1024 * 1024).default(d.DEFAULT_MAX_INFLIGHT_BYTES),
    body_timeout: timer(atLeast("1s")).default(d.DEFAULT_BODY_TIMEOUT),
    idle_timeout: duration
      .refine((s) => parseDuration(s)! >= 1_000 && parseDuration(s)! <= 255_000, { message: 'must be between "1s" and "255s" (Bun\'s limit)' })
      .default(d.DEFAULT_IDLE_TIMEOUT),
    /** This instance's name among those sharing a PostgreSQL database; absent: "<hostname>:<port>". */
    instance: z
      .string()
      .regex(/^[A-Za-z0-9._:\-]{1,63}$/, "expected 1 to 63 letters, digits, '.', '_', ':' or '-'")
      .optional(),
  })
  .refine((s) => s.max_inflight_bytes >= s.max_body_bytes, {
    message: "must be at least server.max_body_bytes, or a body of the maximum size could never be accepted",
    path: ["max_inflight_bytes"],
  })
  .refine((s) => !isReserved(s.webhook_path), {
    message: `must not be one of ${RESERVED_PATHS.join(", ")} or under them (the daemon serves those itself)`,
    path: ["webhook_path"],
  });

/**
 * `sqlite` (one file, one instance) or `postgres` (one database shared by several
 * instances). Each engine's own keys are refused with the other (config/load.ts
 * engineKeyProblems): `path` and `synchronous` are SQLite's, `url` and `pool` PostgreSQL's.
 */
export const STORAGE_ENGINES = ["sqlite", "postgres"] as const;
export const SQLITE_ONLY_KEYS = ["path", "synchronous"] as const;
export const POSTGRES_ONLY_KEYS = ["url", "pool"] as const;

const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

/**
 * What the PostgreSQL client would throw on (a stack trace, not a config error): said
 * without the URL's password.
 */
function postgresUrlProblem(url: string): string | null {
  if (!URL.canParse(url)) return "not a valid URL (a port above 65535, a space, a character the URL must escape?)";
  const u = new URL(url);
  try {
    decodeURIComponent(u.username);
    decodeURIComponent(u.password);
  } catch {
    return "its user or password holds a % not followed by two hex digits: write % as %25";
  }
  const sslmode = u.searchParams.get("sslmode");
  if (sslmode !== null && !SSL_MODES.includes(sslmode)) return `sslmode must be one of ${SSL_MODES.join(", ")}`;
  return null;
}

export const StorageSchema = z.strictObject({
  engine: z.enum(STORAGE_ENGINES).default("sqlite"),
  path: z.string().min(1).default(d.DEFAULT_DB_PATH),
  synchronous: z.enum(["full", "normal"]).default("full"),
  /** postgres://user:password@host:5432/db (or `url_file`, or "${DATABASE_URL}"). */
  url: z
    .string()
    .refine((s) => /^postgres(ql)?:\/\//.test(s), { message: 'expected a postgres:// URL, e.g. "postgres://wa@db.internal:5432/wa"' })
    .superRefine((s, ctx) => {
      const problem = /^postgres(ql)?:\/\//.test(s) ? postgresUrlProblem(s) : null;
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional(),
  /** Connections in this instance's pool. */
  pool: z.int().min(2).max(500).default(d.DEFAULT_PG_POOL),
  lock_timeout: timer(duration).default(d.DEFAULT_LOCK_TIMEOUT),
  /** Raw bodies, events, done deliveries, finished messages and alerts older than this are deleted (the `retention` job). */
  retention: atLeast("1h").default("30d"),
});

export const WhatsAppSchema = z.strictObject({
  verify_token: secret,
  app_secrets: z.array(secret).min(1, "needs at least one app secret"),
});

export const AdminSchema = z.strictObject({
  token: z.string().min(16, "must be at least 16 characters"),
  /** The API reference at /docs; absent: on when server.listen is loopback only. */
  docs: z.boolean().optional(),
  /** The operator console at /console; absent: on when server.listen is loopback only. */
  console: z.boolean().optional(),
  /** Bearer token GET /metrics needs; absent: /metrics is open (it holds no personal data). */
  metrics_token: secret.optional(),
});

export const LogSchema = z.strictObject({
  level: z.enum(LOG_LEVELS).default("info"),
  /** How often the "traffic" summary line is written while webhooks flow. */
  traffic_interval: timer(atLeast("100ms")).default(d.DEFAULT_TRAFFIC_INTERVAL),
  /** Phone numbers as keyed hashes in log lines; false logs them in clear (with a warning). */
  redact: z.boolean().default(true),
  /** The hashing key; absent: derived from admin.token. Set it to keep hashes stable across token rotations. */
  redact_key: secret.optional(),
});

/** Standard Webhooks secret: "whsec_" + base64 of the key bytes. */
const whsec = z
  .string()
  .refine((s) => /^whsec_[A-Za-z0-9+/]+=*$/.test(s) && Buffer.from(s.slice(6), "base64").length >= 16, {
    message: 'expected "whsec_" followed by base64 of at least 16 bytes (e.g. whsec_$(openssl rand -base64 32))',
  });

export const DEFAULT_RETRY_SCHEDULE = ["5s", "5m", "30m", "2h", "5h", "10h", "10h"];

/** A hook's `events` glob must name at least one type we emit, or it is a typo. */
const eventGlob = z
  .string()
  .min(1)
  .refine((g) => matchesKnownType(g), { error: (issue) => unknownTypeMessage(String(issue.input)) });

/** Everything about a hook except its signing secrets (which operator commands never need). */
const hookFields = {
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "letters, digits, _ . - only"),
  url: z.url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" }),
  events: z.array(eventGlob).min(1).default(["*"]),
  phone_number_ids: z.array(z.string()).default([]),
  timeout: timer(atLeast("100ms")).default("15s"),
  concurrency: z.int().min(1).max(256).default(8),
  retry_schedule: z.array(duration).min(1).default(DEFAULT_RETRY_SCHEDULE),
};

export const HookSchema = z
  .strictObject({
    ...hookFields,
    secret: whsec.optional(),
    secrets: z.array(whsec).min(1).optional(),
  })
  .refine((h) => (h.secret === undefined) !== (h.secrets === undefined), {
    message: "set exactly one of secret or secrets (or secret_file / secrets_file): the whsec_ key your hook checks signatures with",
    path: ["secret"],
  });
export type Hook = z.infer<typeof HookSchema>;
/** What routing and replay need to know about a hook. */
export type HookRoute = Pick<Hook, "name" | "events" | "phone_number_ids">;

export const WorkerSchema = z.strictObject({
  /** false: ingest only (events wait in the inbox until a worker runs). */
  enabled: z.boolean().default(true),
  /** Processing attempts of one inbox row before it is marked dead. */
  max_attempts: z.int().min(1).max(100).default(5),
  batch_size: z.int().min(1).max(5000).default(200),
  lease: timer(atLeast("1s")).default("60s"),
});

// A croner pattern; six fields allow seconds ("*/15 * * * * *" is every 15 s).
const cronPattern = z.string().refine(
  (pattern) => {
    try {
      new Cron(pattern, { paused: true }).stop();
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected a cron pattern such as "*/15 * * * * *" (seconds first) or "0 3 * * *"' },
);

export const SweeperSchema = z.strictObject({
  /** How often the `stale` sweep runs. */
  schedule: cronPattern.default("*/15 * * * * *"),
  /** How often due SMS fallbacks are sent (the `fallback` job). */
  fallback_schedule: cronPattern.default("*/5 * * * * *"),
  /** When the `retention` job runs (daily at 03:30 by default). */
  retention_schedule: cronPattern.default("0 30 3 * * *"),
  /** Rows per transaction: a sweep never holds the writer thread for long. */
  batch_size: z.int().min(1).max(10_000).default(100),
});

/** A text with {{placeholders}} (SMS body and header values, fallback.default_text): a name not ours is a typo. */
const smsTemplate = z.string().superRefine((text, ctx) => {
  const unknown = unknownPlaceholders(text);
  if (unknown.length > 0) {
    ctx.addIssue({ code: "custom", message: `unknown placeholder ${unknown.map((n) => `{{${n}}}`).join(", ")}; the placeholders are ${SMS_PLACEHOLDERS.map((n) => `{{${n}}}`).join(" ")}` });
  }
});

/** A deadline or expiry of SMS fallback (domain/fallback-limits.ts bounds it). */
const fallbackWait = duration.refine(withinFallbackWait, { message: FALLBACK_WAIT_TOO_LONG });
const category = z.string().refine(isFallbackCategory, { message: CATEGORY_EXPECTED });

export const SmsSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" }),
  method: z.enum(["POST", "PUT"]).default("POST"),
  content_type: z.enum(["json", "form"]).default("json"),
  headers: z.record(z.string(), smsTemplate).default({}),
  /** Fields of the request body; values may hold {{to}} {{text}} {{wamid}} {{reason}} {{error_code}} {{category}}. */
  body: z.record(z.string(), smsTemplate).default({ to: "+{{to}}", text: "{{text}}", ref: "{{wamid}}" }),
  timeout: timer(atLeast("100ms")).default("10s"),
  retry_schedule: z.array(duration).min(1).default(["5s", "30s", "2m", "10m"]),
  /** SMS requests in flight at once. */
  concurrency: z.int().min(1).max(1000).default(50),
});

/** Each key a category, and each category once (`authentication-international` and `authentication_international` are one). */
function checkCategoryKeys(waits: Record<string, string>, ctx: z.RefinementCtx) {
  for (const key of Object.keys(waits)) if (!isFallbackCategory(key)) ctx.addIssue({ code: "custom", path: [key], message: `not a category: ${CATEGORY_EXPECTED}` });
  checkOnce(Object.keys(waits), (key) => [key], ctx);
}

/** A category given twice (in any of Meta's spellings) is a mistake: said at the second, naming the first. */
function checkOnce(names: readonly string[], pathOf: (name: string, index: number) => (string | number)[], ctx: z.RefinementCtx) {
  const seen = new Map<string, string>();
  names.forEach((name, i) => {
    const first = seen.get(normalizeCategory(name));
    if (first !== undefined) ctx.addIssue({ code: "custom", path: pathOf(name, i), message: `the same category as ${first}: give it once` });
    seen.set(normalizeCategory(name), name);
  });
}

export const FallbackSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** "shadow": record and emit what would be sent, send nothing. */
    mode: z.enum(["send", "shadow"]).default("send"),
    categories: z
      .array(category)
      .superRefine((list, ctx) => checkOnce(list, (_, i) => [i], ctx))
      .default(["authentication", "utility", "service"]),
    /**
     * A message with no category known that the app did not describe (no registration, no
     * instructions in biz_opaque_callback_data): seen only through statuses, which carry
     * pricing on delivered or read only, it could be marketing. "send" falls back anyway.
     */
    unknown_category: z.enum(["skip", "send"]).default("skip"),
    stale_after: fallbackWait.default("15m"),
    /** Keys in Meta's spellings (any case, - or _), kept as normalizeCategory spells them: the sweeper looks them up so. */
    stale_after_by_category: z
      .record(z.string(), fallbackWait)
      .superRefine(checkCategoryKeys)
      .transform((waits) => Object.fromEntries(Object.entries(waits).map(([key, wait]) => [normalizeCategory(key), wait])))
      .default({}),
    not_after: fallbackWait.default("2h"),
    /** The SMS text of a message with none of its own, or, holding {{text}}, the wrapper of one that has (sweeper/transitions.ts smsText). */
    default_text: smsTemplate.min(1).optional(),
    /** Outage guard: more than this share of a sweep's deadlines stale (with at least 20) holds every fallback. */
    max_stale_ratio: z.number().gt(0).max(1).default(0.5),
    /** Replace the built-in lists of failure codes that fall back at once / never (docs/fallback.md). */
    immediate_codes: z.array(z.int()).optional(),
    never_codes: z.array(z.int()).optional(),
    sms: SmsSchema.optional(),
  })
  .refine((f) => !f.enabled || f.sms !== undefined, { message: "fallback.enabled = true needs [fallback.sms] with a url", path: ["sms", "url"] });
export type FallbackSettings = z.infer<typeof FallbackSchema>;

const alertGlob = z
  .string()
  .min(1)
  .refine((g) => matchesKnownType(g, ALERT_KINDS), { error: (issue) => unknownTypeMessage(String(issue.input), ALERT_KINDS, ["alert kind", "kinds"]) });

export const AlertsSchema = z.strictObject({
  /** Where alerts are POSTed; without it they are only recorded and logged. */
  url: z.url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" }).optional(),
  /** "slack": {"text": "…"} for an incoming webhook (Slack, Mattermost, Rocket.Chat); "json": the whole alert. */
  format: z.enum(["slack", "json"]).default("json"),
  /** Alert kinds to send (globs): docs/alerts.md lists them. */
  events: z.array(alertGlob).min(1).default(["*"]),
  headers: z.record(z.string(), z.string()).default({}),
  timeout: timer(atLeast("100ms")).default("10s"),
  retry_schedule: z.array(duration).min(1).default(["5s", "30s", "2m", "10m", "1h", "6h"]),
  /** How often due alerts are sent (a new alert is sent at once; this retries). */
  schedule: cronPattern.default("*/5 * * * * *"),
  /** Consecutive failed SMS attempts before an `sms.failing` alert. */
  sms_failures: z.int().min(1).max(1000).default(3),
});
export type AlertSettings = z.infer<typeof AlertsSchema>;

const uniqueHookNames = <T extends { name: string }>(hooks: T[]) => new Set(hooks.map((h) => h.name)).size === hooks.length;
/** The names given to more than one hook, for the message. */
const repeatedHookNames = (hooks: unknown) =>
  Array.isArray(hooks) ? [...new Set(hooks.map((h: { name?: unknown }) => String(h?.name)).filter((n, i, all) => all.indexOf(n) !== i))].map((n) => JSON.stringify(n)).join(", ") : "";
const uniqueHookMessage = { error: (issue: { input?: unknown }) => `hook names must be unique: ${repeatedHookNames(issue.input)} given to more than one [[hooks]]` };

const commonSections = {
  server: ServerSchema.prefault({}),
  storage: StorageSchema.prefault({}),
  log: LogSchema.prefault({}),
  worker: WorkerSchema.prefault({}),
  sweeper: SweeperSchema.prefault({}),
};

export const ConfigSchema = z.strictObject({
  ...commonSections,
  whatsapp: WhatsAppSchema,
  admin: AdminSchema,
  hooks: z.array(HookSchema).default([]).refine(uniqueHookNames, uniqueHookMessage),
  fallback: FallbackSchema.prefault({}),
  alerts: AlertsSchema.prefault({}),
});
export type Config = z.infer<typeof ConfigSchema>;

/**
 * The same file as read by the operator commands (replay, retry-dead, reprocess). They
 * only write rows, the daemon sends, so every secret is stripped before validation: an
 * operator's shell has neither the service's environment nor its LoadCredential files.
 */
export const OperatorConfigSchema = z.strictObject({
  ...commonSections,
  whatsapp: WhatsAppSchema.partial().optional(),
  admin: AdminSchema.partial().optional(),
  hooks: z.array(z.strictObject(hookFields)).default([]).refine(uniqueHookNames, uniqueHookMessage),
  fallback: z.unknown().optional(),
  alerts: z.unknown().optional(),
});
export type OperatorConfig = z.infer<typeof OperatorConfigSchema>;

/** Keys whose values are secrets: masked by `check`, never logged. */
export const SECRET_KEYS = new Set(["verify_token", "app_secrets", "token", "secret", "secrets", "metrics_token", "redact_key"]);

/**
 * Secrets that may instead be read from a file (systemd LoadCredential): `<key>_file`.
 * "lines" files hold one secret per line; blank lines and # comments are skipped.
 * `hooks.*` applies to every [[hooks]] table.
 */
export const SECRET_FILE_KEYS: Record<string, "single" | "lines"> = {
  "whatsapp.verify_token": "single",
  "whatsapp.app_secrets": "lines",
  "admin.token": "single",
  "admin.metrics_token": "single",
  "log.redact_key": "single",
  "storage.url": "single",
  "hooks.secret": "single",
  "hooks.secrets": "lines",
};

export function parseListen(text: string): { hostname: string; port: number } | null {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+):(\d{1,5})$/.exec(text);
  if (!match) return null;
  const port = Number(match[2]);
  if (port > 65535) return null;
  return { hostname: match[1]!.replace(/^\[|\]$/g, ""), port };
}
