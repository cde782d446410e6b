/**
 * What `replay`, `retry-dead`, `reprocess` and `orphans` say, on either engine: one line
 * (or the JSON beside it) per command, and why a --hook is refused. SQLite's
 * (cli/operator.ts) and PostgreSQL's (cli/postgres-requeue.ts) compute the figures from
 * their own stores and say them here, so a script reading the output needs no engine.
 */
import { closest } from "../config/suggest";
import type { HookRoute } from "../config/schema";
import { plural } from "../util/plural";
import type { OperatorCommand } from "./args";
import type { OrphansResolved } from "../domain/orphans";
import type { ReplayResult } from "../domain/replay";

export interface Said {
  line: string;
  json: object;
}

type Orphaned = Record<string, Record<string, number>>;

/**
 * Why a --hook the daemon does not run is refused (a usage error), null when it runs it:
 * one it ran before (its deliveries orphaned), a typo (not in --config either), or a
 * config the daemon does not run with.
 */
export function hookRefusal(hook: string | null, daemonHooks: readonly HookRoute[], configHooks: readonly HookRoute[], orphaned: Orphaned): string | null {
  if (hook === null || daemonHooks.some((h) => h.name === hook)) return null;
  const list = (hooks: readonly HookRoute[]) => hooks.map((h) => h.name).join(", ");
  const open = orphaned[hook];
  if (open) {
    const n = Object.values(open).reduce((a, b) => a + b, 0);
    return `--hook: the daemon no longer runs hook "${hook}"; its open deliveries (${n}) are orphaned: \`wa-webhookd orphans --cancel\` or \`--move-to HOOK\` them`;
  }
  if (!configHooks.some((h) => h.name === hook)) {
    const meant = closest(hook, configHooks.map((h) => h.name));
    return `--hook: no hook named "${hook}" in the config${meant ? `; did you mean "${meant}"?` : ""} (${configHooks.length > 0 ? `hooks: ${list(configHooks)}` : "it has no hooks"})`;
  }
  return (
    `--hook: the daemon does not run a hook named "${hook}" (it runs: ${list(daemonHooks) || "none"}, as of its last start or reload): ` +
    "is --config the daemon's own file, and was the daemon reloaded after the hook was added? (`wa-webhookd orphans` handles deliveries of a removed hook)"
  );
}

export function replaySaid(result: ReplayResult, hook: string | null, hookCount: number): Said {
  const hooks = Object.entries(result.queued);
  const total = hooks.reduce((n, [, count]) => n + count, 0);
  const matched = `replay: ${plural(result.events, "event")} matched`;
  const line = (text: string) => ({ line: text, json: result });
  if (result.events === 0) return line(`${matched}; nothing queued`);
  if (hookCount === 0) return line(`${matched}; the daemon runs no [[hooks]], nothing queued`);
  if (total === 0) {
    return line(
      hook === null
        ? `${matched}; no hook wants them (check the hooks' events and phone_number_ids filters)`
        : `${matched}; hook ${hook}'s filters exclude them all, nothing queued (add --force to send them anyway)`,
    );
  }
  const perHook = hooks.map(([name, count]) => `${name}: ${count}`).join(", ");
  return line(`${matched}; ${plural(total, "delivery", "deliveries")} queued (${perHook}); the running daemon sends them`);
}

export function retriedSaid(retried: number, hook: string | null): Said {
  const scope = hook === null ? "" : ` of hook ${hook}`;
  return { line: `retry-dead: ${plural(retried, "dead delivery", "dead deliveries")}${scope} queued again; the running daemon sends them`, json: { retried } };
}

export function revivedSaid(revived: number): Said {
  return { line: `reprocess: ${plural(revived, "dead inbox row")} queued for processing again; the running daemon processes them`, json: { revived } };
}

/** The orphaned deliveries (of --hook, or all) per hook and state. */
export function orphansListed(orphaned: Orphaned, running: readonly string[], hook: string | null): Said {
  const hooks = Object.entries(orphaned).filter(([name]) => hook === null || name === hook);
  if (hooks.length === 0) return { line: `orphans: none (the daemon runs: ${running.join(", ") || "no hooks"})`, json: { orphaned: {} } };
  const perHook = hooks.map(([name, open]) => `${name}: ${Object.entries(open).map(([state, n]) => `${n} ${state}`).join(", ")}`);
  return { line: `orphans: ${perHook.join("; ")}; cancel them with --cancel, or queue them to a hook the daemon runs with --move-to HOOK`, json: { orphaned: Object.fromEntries(hooks) } };
}

export function orphansResolvedSaid(result: OrphansResolved): Said {
  const total = Object.values(result.cancelled).reduce((a, b) => a + b, 0);
  const perHook = Object.entries(result.cancelled).map(([hook, n]) => `${hook}: ${n}`).join(", ");
  const what = `${plural(total, "orphaned delivery", "orphaned deliveries")}${total > 0 ? ` (${perHook})` : ""}`;
  const line =
    result.moved_to === null
      ? `orphans: ${what} cancelled`
      : `orphans: ${what} moved: ${plural(result.queued, "delivery", "deliveries")} queued to ${result.moved_to}; the running daemon sends them`;
  return { line, json: result };
}

/** An orphans refusal (domain/orphans.ts, "to: …" or "hook: …") as the flag the operator gave. */
export const orphansFlagRefusal = (message: string) => `--${message.replace(/^to:/, "move-to:")}`;

/** The command's answer on stdout: its line, or with --json its JSON. */
export function say(command: OperatorCommand, said: Said): void {
  process.stdout.write((command.json ? JSON.stringify(said.json) : said.line) + "\n");
}
