/**
 * What a SIGHUP reload may change. The listener and the database stay as they are
 * until a restart (a new port or file under a running daemon would need a second
 * instance); everything else (secrets, tokens, hooks, sweeper, fallback, alerts, log)
 * applies at once. Pure: the daemon does the applying (cli/serve.ts).
 */
import type { Config } from "./schema";

const RESTART_ONLY = ["server.", "storage.", "admin.docs", "admin.console"];
const needsRestart = (key: string) => RESTART_ONLY.some((p) => key === p || key.startsWith(p));

/** Dotted keys whose values differ ([[hooks]] compared as a whole, by name). */
export function changedKeys(a: unknown, b: unknown, prefix = ""): string[] {
  const isTable = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (isTable(a) && isTable(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => changedKeys(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix];
}

export interface ReloadPlan {
  /** The config to run with: the new one, with the restart-only keys as they are running. */
  config: Config;
  applied: string[];
  needRestart: string[];
}

/**
 * `engineRestartOnly`: keys the engine fixed at start beside those (PostgreSQL: `worker.lease`,
 * which its connections were opened with as the server's idle-in-transaction timeout).
 */
export function planReload(running: Config, next: Config, engineRestartOnly: readonly (keyof Config["worker"])[] = []): ReloadPlan {
  const changed = changedKeys(running, next);
  const waits = (key: string) => needsRestart(key) || engineRestartOnly.some((k) => key === `worker.${k}`);
  const worker = { ...next.worker };
  for (const k of engineRestartOnly) (worker as Record<string, unknown>)[k] = running.worker[k];
  const config: Config = { ...next, worker, server: running.server, storage: running.storage, admin: { ...next.admin, docs: running.admin.docs, console: running.admin.console } };
  return { config, applied: changed.filter((k) => !waits(k)), needRestart: changed.filter(waits) };
}
