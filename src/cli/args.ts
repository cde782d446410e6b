/** Command-line parsing: argv in, a command or a usage error out. No side effects. */
import { parseArgs } from "node:util";

export type Command =
  | { kind: "serve"; config: string | null }
  | { kind: "check"; config: string | null }
  | { kind: "sign"; config: string | null; secret: string | null }
  | { kind: "replay"; config: string | null; event: string | null; type: string | null; since: string | null; until: string | null; hook: string | null }
  | { kind: "retry-dead"; config: string | null; hook: string | null }
  | { kind: "reprocess"; config: string | null; inbox: string | null }
  | { kind: "version" }
  | { kind: "help" }
  | { kind: "usage_error"; message: string };

export const USAGE = `wa-webhookd: receives WhatsApp Business webhooks and never loses one

Usage:
  wa-webhookd [serve] [--config FILE]   run the daemon (without --config: embedded dev config)
  wa-webhookd check [--config FILE]     validate a config; print it with secrets masked
  wa-webhookd sign [--config FILE | --secret S] < body
                                        print the X-Hub-Signature-256 value for a body,
                                        signed with the first app secret (or --secret)
  wa-webhookd replay [--config FILE] [--event ID | --type TYPE] [--since ISO] [--until ISO] [--hook NAME]
                                        re-deliver stored events (same webhook-id) to one hook or
                                        every hook that wants them
  wa-webhookd retry-dead [--config FILE] [--hook NAME]
                                        retry dead deliveries from a fresh schedule
  wa-webhookd reprocess [--config FILE] [--inbox ID]
                                        process dead inbox rows again
  wa-webhookd --version                 print the version
  wa-webhookd --help                    print this help

Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.`;

const SUBCOMMANDS = ["serve", "check", "sign", "replay", "retry-dead", "reprocess", "version", "help"] as const;

/** Which subcommand accepts which of the string options besides --config. */
const OPTIONS_OF: Record<string, readonly string[]> = {
  sign: ["secret"],
  replay: ["event", "type", "since", "until", "hook"],
  "retry-dead": ["hook"],
  reprocess: ["inbox"],
};

export function parseCommand(argv: readonly string[]): Command {
  const first = argv[0];
  const hasSub = first !== undefined && !first.startsWith("-");
  if (hasSub && !(SUBCOMMANDS as readonly string[]).includes(first)) {
    return { kind: "usage_error", message: `unknown command "${first}"` };
  }
  const sub = (hasSub ? first : "serve") as (typeof SUBCOMMANDS)[number];
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv.slice(hasSub ? 1 : 0)],
      options: {
        config: { type: "string", short: "c" },
        secret: { type: "string" },
        event: { type: "string" },
        type: { type: "string" },
        since: { type: "string" },
        until: { type: "string" },
        hook: { type: "string" },
        inbox: { type: "string" },
        version: { type: "boolean", short: "V" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return { kind: "usage_error", message: (err as Error).message };
  }
  const allowed = OPTIONS_OF[sub] ?? [];
  const misplaced = Object.keys(OPTIONS_OF).flatMap((k) => OPTIONS_OF[k]!).find((o) => values[o] !== undefined && !allowed.includes(o));
  if (misplaced) return { kind: "usage_error", message: `--${misplaced} is not an option of ${sub}` };
  if (values.help || sub === "help") return { kind: "help" };
  if (values.version || sub === "version") return { kind: "version" };
  const str = (k: string) => (typeof values[k] === "string" ? (values[k] as string) : null);
  const config = str("config");
  switch (sub) {
    case "sign":
      return { kind: "sign", config, secret: str("secret") };
    case "replay":
      if (str("event") === null && str("type") === null && str("since") === null && str("until") === null) {
        return { kind: "usage_error", message: "replay needs --event, --type, --since or --until (to replay everything, give --since 1970-01-01)" };
      }
      return { kind: "replay", config, event: str("event"), type: str("type"), since: str("since"), until: str("until"), hook: str("hook") };
    case "retry-dead":
      return { kind: "retry-dead", config, hook: str("hook") };
    case "reprocess":
      return { kind: "reprocess", config, inbox: str("inbox") };
    default:
      return { kind: sub as "serve" | "check", config };
  }
}
