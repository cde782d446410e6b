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

export function planReload(running: Config, next: Config): ReloadPlan {
  const changed = changedKeys(running, next);
  const config: Config = { ...next, server: running.server, storage: running.storage, admin: { ...next.admin, docs: running.admin.docs, console: running.admin.console } };
  return { config, applied: changed.filter((k) => !needsRestart(k)), needRestart: changed.filter(needsRestart) };
}
