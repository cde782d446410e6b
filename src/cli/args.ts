/** Command-line parsing: argv in, a command or a usage error out. No side effects. */
import { parseArgs } from "node:util";
import { parseListen } from "../config/schema";
import { closest } from "../config/suggest";
import type { EventSelection } from "../domain/selection";
import { matchesKnownType, unknownTypeMessage } from "../events/type-glob";
import type { OrphanAction } from "../domain/orphans";

export type Command =
  | { kind: "serve"; config: string | null; listen: string | null }
  | { kind: "check"; config: string | null; unit: string | null }
  | { kind: "sign"; config: string | null; secret: string | null }
  | { kind: "replay"; config: string | null; selection: EventSelection; hook: string | null; force: boolean; json: boolean }
  | { kind: "retry-dead"; config: string | null; hook: string | null; json: boolean }
  | { kind: "reprocess"; config: string | null; inbox: number | null; json: boolean }
  | { kind: "orphans"; config: string | null; hook: string | null; action: OrphanAction | null; json: boolean }
  | { kind: "jobs"; config: string | null; action: "list"; json: boolean }
  | { kind: "jobs"; config: string | null; action: "run"; name: string; json: boolean }
  | { kind: "vacuum"; config: string | null; json: boolean }
  | { kind: "log-gap"; config: string | null; skip: boolean; json: boolean }
  | { kind: "tail"; config: string | null; type: string | null; json: boolean }
  | { kind: "backup"; config: string | null; out: string; json: boolean }
  | { kind: "stats"; config: string | null; json: boolean }
  | { kind: "migrate-storage"; config: string | null; from: string; json: boolean }
  | { kind: "init"; dir: string }
  | { kind: "send-test"; config: string | null; type: string | null; to: string; count: number; list: boolean; target: SendTarget }
  | { kind: "version" }
  | { kind: "help" }
  | { kind: "usage_error"; message: string; command: Subcommand | null };

/** Where send-test posts: the config's server.listen, another HOST:PORT, or a whole URL. */
export type SendTarget = { listen: string } | { url: string } | null;

export type OperatorCommand = Extract<Command, { kind: "replay" | "retry-dead" | "reprocess" | "orphans" }>;

export const USAGE = `wa-webhookd: receives WhatsApp Business webhooks and never loses one

Usage:
  wa-webhookd [serve] [--config FILE] [--listen HOST:PORT]
                                        run the daemon (without --config: embedded dev config;
                                        --listen overrides server.listen)
  wa-webhookd check [--config FILE] [--unit FILE]
                                        validate a config; print it with secrets masked
                                        (--unit: read *_file secrets under the unit's credentials
                                        directory from its LoadCredential= files, before it runs)
  wa-webhookd sign [--config FILE | --secret S] < body
                                        print the X-Hub-Signature-256 value for a body,
                                        signed with the first app secret (or --secret)
  wa-webhookd init [--dir DIR]          write DIR/config.toml (default: .) with fresh tokens and
                                        a hook secret, and print the next steps
  wa-webhookd send-test [--config FILE] --type SAMPLE [--to WA_ID] [--count N]
                        [--listen HOST:PORT | --url URL] | --list
                                        POST realistic signed webhooks (fresh wamids) to the
                                        running daemon at server.listen (or HOST:PORT, or URL);
                                        --list shows the types

Operator commands (they queue work in the database; the running daemon does it):
  wa-webhookd replay [--config FILE] (--event ID | --type TYPE | --since TIME | --until TIME)
                     [--hook NAME [--force]] [--json]
                                        re-deliver stored events (same webhook-id) to every hook
                                        that wants them, or to one hook (--force: even events
                                        its events/phone_number_ids filters exclude)
  wa-webhookd retry-dead [--config FILE] [--hook NAME] [--json]
                                        retry dead deliveries from a fresh schedule
  wa-webhookd reprocess [--config FILE] [--inbox ID] [--json]
                                        process dead inbox rows again
  wa-webhookd orphans [--config FILE] [--hook NAME] [--cancel | --move-to HOOK] [--json]
                                        deliveries of hooks the daemon no longer runs (removed
                                        or renamed): list them, cancel them, or queue their
                                        events to a hook it runs

Jobs and maintenance (they work with or without a running daemon, unless said):
  wa-webhookd jobs list [--config FILE] [--json]
                                        the scheduled jobs, their schedules and last results
  wa-webhookd jobs run NAME [--config FILE] [--json]
                                        run a job now (stale, fallback, alerts, retention);
                                        on SQLite never alongside the daemon's own run of it
  wa-webhookd tail [--config FILE] [--type TYPE] [--json]
                                        print events as they are stored, one line each
                                        (time, type, wamid or other id, what happened; no
                                        personal data), or the envelopes; Ctrl-C stops
  wa-webhookd backup [--config FILE] OUT.db [--json]
                                        a consistent copy of the database while the daemon runs,
                                        checked with integrity_check (restore: docs/deploy.md);
                                        on PostgreSQL it prints the pg_dump command instead
  wa-webhookd stats [--config FILE] [--json]
                                        queues, lag, events, hooks, funnel, billable and fallback
                                        figures (those of GET /v1/stats), as a table
  wa-webhookd vacuum [--config FILE] [--json]
                                        compact the database file and turn on incremental
                                        vacuum (once, for files made by earlier releases; daemon stopped)
  wa-webhookd log-gap [--config FILE] [--skip] [--json]
                                        acknowledged webhooks the inbox log lost (its files
                                        changed under the daemon): which ids; --skip indexes
                                        past them (they are lost; daemon stopped)
  wa-webhookd migrate-storage --config PG_FILE --from OLD.db [--json]
                                        copy a SQLite engine's file into the empty PostgreSQL
                                        database of PG_FILE (SQLite daemon stopped, no instance
                                        running yet); resumes if interrupted; counts checked

  TYPE is an event type or a glob such as 'message.*'; SAMPLE is a sample's name
  (send-test --list). TIME is RFC 3339
  (2026-11-20T08:00:00Z, 2026-11-20T08:00:00+01:00) or a date (2026-11-20, UTC).
  Without --config a command uses the embedded dev config (database ./data/wa-webhookd.db,
  that of \`make run\`) and says so on stderr.

  wa-webhookd --version                 print the version
  wa-webhookd --help                    print this help

Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.`;

const SUBCOMMANDS = ["serve", "check", "sign", "replay", "retry-dead", "reprocess", "orphans", "jobs", "vacuum", "log-gap", "tail", "backup", "stats", "migrate-storage", "init", "send-test", "version", "help"] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

/** Which subcommand accepts which option besides --config, --help and --version. */
const OPTIONS_OF: Partial<Record<Subcommand, readonly string[]>> = {
  serve: ["listen"],
  check: ["unit"],
  sign: ["secret"],
  replay: ["event", "type", "since", "until", "hook", "force", "json"],
  "retry-dead": ["hook", "json"],
  reprocess: ["inbox", "json"],
  orphans: ["hook", "cancel", "move-to", "json"],
  jobs: ["json"],
  vacuum: ["json"],
  "log-gap": ["skip", "json"],
  tail: ["type", "json"],
  backup: ["json"],
  stats: ["json"],
  "migrate-storage": ["from", "json"],
  init: ["dir"],
  "send-test": ["type", "to", "count", "list", "listen", "url"],
};

class UsageProblem extends Error {}

export function parseCommand(argv: readonly string[]): Command {
  const first = argv[0];
  const hasSub = first !== undefined && !first.startsWith("-");
  if (hasSub && !(SUBCOMMANDS as readonly string[]).includes(first)) {
    const meant = closest(first, SUBCOMMANDS);
    return { kind: "usage_error", message: `unknown command "${first}"${meant ? `; did you mean "${meant}"?` : ""}`, command: null };
  }
  const sub = (hasSub ? first : "serve") as Subcommand;
  try {
    return parse(sub, argv.slice(hasSub ? 1 : 0));
  } catch (err) {
    if (err instanceof UsageProblem) return { kind: "usage_error", message: err.message, command: sub };
    throw err;
  }
}

/** The lines of USAGE about one command, for its usage errors (the whole text is --help's). */
export function commandUsage(command: Subcommand | null): string {
  if (command === null || command === "help" || command === "version") return USAGE;
  const entry = new RegExp(`^  wa-webhookd ${command === "serve" ? "\\[serve\\]" : command}(?: |$)`);
  const lines = USAGE.split("\n");
  const own = lines.flatMap((line, i) => {
    if (!entry.test(line)) return [];
    const rest = lines.slice(i + 1);
    const end = rest.findIndex((l) => l === "" || l.startsWith("  wa-webhookd "));
    return [line, ...rest.slice(0, end < 0 ? rest.length : end)];
  });
  return `Usage:\n${own.join("\n")}\n\n(wa-webhookd --help lists every command)`;
}

/** Options as typed on the command line: --config, --help, --version and the command's own. */
function optionsOf(sub: Subcommand): string[] {
  return ["config", "help", "version", ...(OPTIONS_OF[sub] ?? [])].map((o) => `--${o}`);
}

function parse(sub: Subcommand, args: readonly string[]): Command {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...args],
      options: {
        config: { type: "string", short: "c" },
        listen: { type: "string" },
        unit: { type: "string" },
        url: { type: "string" },
        secret: { type: "string" },
        event: { type: "string" },
        type: { type: "string" },
        since: { type: "string" },
        until: { type: "string" },
        hook: { type: "string" },
        inbox: { type: "string" },
        force: { type: "boolean" },
        cancel: { type: "boolean" },
        "move-to": { type: "string" },
        json: { type: "boolean" },
        dir: { type: "string" },
        from: { type: "string" },
        to: { type: "string" },
        count: { type: "string" },
        list: { type: "boolean" },
        skip: { type: "boolean" },
        version: { type: "boolean", short: "V" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      // Only `jobs` (list | run NAME) and `backup` (OUT) take words after them.
      allowPositionals: sub === "jobs" || sub === "backup",
    }));
  } catch (err) {
    const unknown = /^Unknown option '([^']+)'/.exec((err as Error).message)?.[1];
    if (unknown === undefined) throw new UsageProblem((err as Error).message);
    const meant = closest(unknown.replace(/=.*$/, ""), optionsOf(sub));
    throw new UsageProblem(`unknown option ${unknown}${meant ? `; did you mean ${meant}?` : ` (${sub} takes ${optionsOf(sub).join(", ")})`}`);
  }
  const allowed = OPTIONS_OF[sub] ?? [];
  const misplaced = Object.values(OPTIONS_OF)
    .flat()
    .find((o) => values[o] !== undefined && !allowed.includes(o));
  if (misplaced) throw new UsageProblem(`--${misplaced} is not an option of ${sub}`);
  if (values.help || sub === "help") return { kind: "help" };
  if (values.version || sub === "version") return { kind: "version" };
  const str = (k: string) => (typeof values[k] === "string" ? (values[k] as string) : null);
  const config = str("config");
  const json = values.json === true;
  switch (sub) {
    case "serve":
      return { kind: "serve", config, listen: listenOption(str("listen")) };
    case "check":
      return { kind: "check", config, unit: str("unit") };
    case "sign":
      if (config !== null && str("secret") !== null) throw new UsageProblem("give --config or --secret, not both");
      return { kind: "sign", config, secret: str("secret") };
    case "replay":
      return replayCommand(config, str, values.force === true, json);
    case "retry-dead":
      return { kind: "retry-dead", config, hook: str("hook"), json };
    case "reprocess":
      return { kind: "reprocess", config, inbox: optionalId("--inbox", str("inbox")), json };
    case "orphans": {
      const to = str("move-to");
      if (values.cancel === true && to !== null) throw new UsageProblem("give --cancel or --move-to HOOK, not both");
      return { kind: "orphans", config, hook: str("hook"), action: to !== null ? { action: "move", to } : values.cancel === true ? { action: "cancel" } : null, json };
    }
    case "jobs":
      return jobsCommand(config, positionals, json);
    case "vacuum":
      return { kind: "vacuum", config, json };
    case "log-gap":
      return { kind: "log-gap", config, skip: values.skip === true, json };
    case "tail":
      return { kind: "tail", config, type: str("type"), json };
    case "backup":
      if (positionals.length !== 1) throw new UsageProblem(`backup: expected one output file, e.g. "backup --config FILE /root/wa-backup.db"`);
      return { kind: "backup", config, out: positionals[0]!, json };
    case "stats":
      return { kind: "stats", config, json };
    case "migrate-storage": {
      const from = str("from");
      if (from === null) throw new UsageProblem("migrate-storage needs --from OLD.db: the SQLite engine's file to copy");
      if (config === null) throw new UsageProblem("migrate-storage needs --config: the PostgreSQL instances' config (storage.engine = \"postgres\")");
      return { kind: "migrate-storage", config, from, json };
    }
    case "init":
      if (config !== null) throw new UsageProblem("init writes a config; it takes --dir, not --config");
      return { kind: "init", dir: str("dir") ?? "." };
    case "send-test":
      return sendTestCommand(config, str, values.list === true);
    default:
      return { kind: sub, config };
  }
}

function listenOption(listen: string | null): string | null {
  if (listen !== null && parseListen(listen) === null) throw new UsageProblem(`--listen: expected "host:port", e.g. "127.0.0.1:9090", got "${listen}"`);
  return listen;
}

function sendTarget(listen: string | null, url: string | null): SendTarget {
  if (listen !== null && url !== null) throw new UsageProblem("give --listen or --url, not both");
  if (url !== null) {
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new UsageProblem(`--url: expected an http(s) URL, e.g. "http://127.0.0.1:9090/webhook", got "${url}"`);
    return { url };
  }
  return listen === null ? null : { listen: listenOption(listen)! };
}

function sendTestCommand(config: string | null, str: (k: string) => string | null, list: boolean): Command {
  const target = sendTarget(str("listen"), str("url"));
  const type = str("type");
  if (!list && type === null) throw new UsageProblem("send-test needs --type SAMPLE (--list shows them)");
  const to = (str("to") ?? "16505551234").replace(/^\+/, "");
  if (!/^[0-9]{6,20}$/.test(to)) throw new UsageProblem(`--to: expected a phone number (digits, optional +), got "${str("to")}"`);
  const rawCount = str("count") ?? "1";
  const count = /^[1-9][0-9]{0,4}$/.test(rawCount) ? Number(rawCount) : NaN;
  if (!(count >= 1 && count <= 10_000)) throw new UsageProblem(`--count: expected a whole number from 1 to 10000, got "${rawCount}"`);
  return { kind: "send-test", config, type, to, count, list, target };
}

function jobsCommand(config: string | null, words: string[], json: boolean): Command {
  const [action, name, ...rest] = words;
  if (action === "list" && name === undefined) return { kind: "jobs", config, action, json };
  if (action === "run" && name !== undefined && rest.length === 0) return { kind: "jobs", config, action, name, json };
  throw new UsageProblem(`jobs: expected "jobs list" or "jobs run NAME", got "jobs ${words.join(" ")}"`.replace(/ "$/, '"'));
}

function replayCommand(config: string | null, str: (k: string) => string | null, force: boolean, json: boolean): Command {
  const selection: EventSelection = {
    eventId: str("event"),
    type: eventType(str("type")),
    since: time("--since", str("since")),
    until: time("--until", str("until")),
  };
  if (Object.values(selection).every((v) => v === null)) {
    throw new UsageProblem("replay needs --event, --type, --since or --until (to replay everything, give --since 1970-01-01)");
  }
  if (selection.since !== null && selection.until !== null && selection.until <= selection.since) {
    throw new UsageProblem("--until must be later than --since");
  }
  const hook = str("hook");
  if (force && hook === null) throw new UsageProblem("--force needs --hook: it sends to one hook what its filters exclude");
  return { kind: "replay", config, selection, hook, force, json };
}

function eventType(text: string | null): string | null {
  if (text === null) return null;
  if (!/^[a-z0-9_.*]+$/.test(text)) throw new UsageProblem(`--type: expected an event type or a glob such as 'message.*', got "${text}"`);
  if (!matchesKnownType(text)) throw new UsageProblem(`--type: ${unknownTypeMessage(text)}`);
  return text;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2}))?$/;

/** RFC 3339 with an explicit offset, or a plain date (midnight UTC); anything else is refused. */
export function time(flag: string, text: string | null): number | null {
  if (text === null) return null;
  const ms = RFC3339.test(text) ? Date.parse(text.replace(" ", "T")) : NaN;
  if (Number.isNaN(ms)) throw new UsageProblem(`${flag}: expected an RFC 3339 time such as 2026-11-20T08:00:00Z or a date such as 2026-11-20, got "${text}"`);
  return ms;
}

function optionalId(flag: string, text: string | null): number | null {
  if (text === null) return null;
  if (!/^[1-9]\d{0,15}$/.test(text)) throw new UsageProblem(`${flag}: expected a positive row id, got "${text}"`);
  return Number(text);
}
