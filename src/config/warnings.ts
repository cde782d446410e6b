/**
 * What is legal in a config but probably not meant, said at start and by `check` as
 * warnings naming the key (never refused): settings that do nothing, an app secret not in
 * Meta's form, fallback waits that double-deliver or can never send, a PostgreSQL URL
 * naming no database.
 */
import type { Config } from "./schema";
import type { ConfigProblem } from "./load";
import { parseDuration } from "./duration";
import { familyOf, normalizeCategory } from "../domain/pricing";

export function configWarnings(config: Config): ConfigProblem[] {
  return [...inertSettings(config), ...ttlWarnings(config.fallback), ...pastNotAfter(config.fallback), ...unlikeMetaSecrets(config), ...unpaddedHookSecrets(config), ...unnamedDatabase(config)];
}

/**
 * A hook secret's base64 without its `=` padding: the daemon and most libraries decode
 * it, Python's base64.b64decode refuses it (a consumer following docs/events.md by hand
 * cannot verify). Named by key, never shown.
 */
function unpaddedHookSecrets(config: Config): ConfigProblem[] {
  return config.hooks.flatMap((hook, i) =>
    (hook.secrets ?? [hook.secret!]).flatMap((secret, j) =>
      secret.slice("whsec_".length).length % 4 === 0 ? [] : [{ key: hook.secrets ? `hooks[${i}].secrets[${j}]` : `hooks[${i}].secret`, reason: "its base64 lacks the = padding: some receivers (Python's base64.b64decode) cannot decode it to verify; write it as openssl rand -base64 32 prints it" }],
    ),
  );
}

/** Settings that parse but would do nothing: said at startup rather than discovered later. */
function inertSettings(config: Config): ConfigProblem[] {
  if (config.fallback.enabled && !config.worker.enabled) {
    return [{ key: "fallback.enabled", reason: "has no effect while worker.enabled = false: nothing is tracked and no SMS is sent" }];
  }
  return [];
}

/** A URL with no database path: PostgreSQL takes the one named after the user, often the cluster's shared `postgres`. */
function unnamedDatabase(config: Config): ConfigProblem[] {
  const url = config.storage.engine === "postgres" && config.storage.url !== undefined && URL.canParse(config.storage.url) ? new URL(config.storage.url) : null;
  if (url === null || url.pathname.replace(/^\//, "") !== "") return [];
  return [{ key: "storage.url", reason: `names no database: PostgreSQL uses the one named after the user ("${decodeURIComponent(url.username) || "the connecting user"}"), where the schema would be created; add /<database> to the URL` }];
}

/** Meta's app secrets are 32 hexadecimal characters (App Dashboard → App settings → Basic). */
const META_APP_SECRET = /^[0-9a-f]{32}$/i;
/** The embedded dev config's secret is public and refused off loopback (source.ts): not worth a warning too. */
const DEV_APP_SECRET = "dev-app-secret";

/**
 * An app secret of another form is a placeholder or a copy of something else (the
 * client token, the verify token): every webhook Meta signs would get a 401. Said at
 * start, not refused: a stand-in for tests is legal.
 */
function unlikeMetaSecrets(config: Config): ConfigProblem[] {
  return config.whatsapp.app_secrets.flatMap((secret, i) =>
    META_APP_SECRET.test(secret) || secret === DEV_APP_SECRET
      ? []
      : [{ key: `whatsapp.app_secrets[${i}]`, reason: `is not 32 hexadecimal characters, the form of Meta's app secrets (App Dashboard → App settings → Basic → App secret): webhooks Meta signs will be refused (401) unless it is the app's secret` }],
  );
}

/**
 * A deadline at or after not_after never sends: the sweeper finds the message stale when
 * its SMS is already of no use (expired_unsent). Legal (only failures fall back then), so
 * said, naming both keys.
 */
function pastNotAfter(fallback: Config["fallback"]): ConfigProblem[] {
  if (!fallback.enabled) return [];
  const notAfter = parseDuration(fallback.not_after)!;
  const waits: [string, string][] = [["fallback.stale_after", fallback.stale_after], ...Object.entries(fallback.stale_after_by_category).map(([c, w]): [string, string] => [`fallback.stale_after_by_category.${c}`, w])];
  return waits
    .filter(([, wait]) => parseDuration(wait)! >= notAfter)
    .map(([key, wait]) => ({ key, reason: `(${wait}) is not shorter than fallback.not_after (${fallback.not_after}): no SMS is ever sent on this deadline (the message is past not_after when it falls due); only a failure status before not_after falls back` }));
}

/**
 * Meta's default time to live of the families whose TTL is short (authentication
 * templates, at home or abroad: 10 min). Every other template lives 30 days: any useful
 * wait is shorter, so a warning would only repeat at every start what docs/fallback.md
 * says once (a double delivery stays possible; send them with a shorter TTL).
 */
const SHORT_META_TTL_MS: Record<string, number> = { authentication: 10 * 60_000 };

/**
 * A fallback deadline before a short TTL: WhatsApp may still deliver after the SMS went
 * out (a double delivery), and for an OTP the fix is at hand (a wait just past the TTL).
 * Said per config key, with the categories it concerns; a category without its own wait
 * takes its family's (as the sweeper does).
 */
function ttlWarnings(fallback: Config["fallback"]): ConfigProblem[] {
  if (!fallback.enabled) return [];
  const waits = fallback.stale_after_by_category;
  const byKey = new Map<string, string[]>();
  for (const category of new Set([...fallback.categories.map(normalizeCategory), ...Object.keys(waits)])) {
    const family = familyOf(category);
    const ttl = SHORT_META_TTL_MS[family];
    if (ttl === undefined) continue;
    const waitKey = waits[category] !== undefined ? category : waits[family] !== undefined ? family : null;
    const key = waitKey === null ? "fallback.stale_after" : `fallback.stale_after_by_category.${waitKey}`;
    if (parseDuration(waitKey === null ? fallback.stale_after : waits[waitKey]!)! < ttl) byKey.set(key, [...(byKey.get(key) ?? []), `${category} (Meta's TTL 10m)`]);
  }
  return [...byKey].map(([key, categories]) => ({
    key,
    reason: `is shorter than Meta's default time to live for ${categories.join(", ")}: WhatsApp may still deliver after the SMS, a double delivery (reported as late_delivered). Send with a shorter TTL, or accept it (docs/fallback.md)`,
  }));
}
