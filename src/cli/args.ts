/** Command-line parsing: argv in, a command or a usage error out. No side effects. */
import { parseArgs } from "node:util";

export type Command =
  | { kind: "serve"; config: string | null }
  | { kind: "check"; config: string | null }
  | { kind: "sign"; config: string | null; secret: string | null }
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
  wa-webhookd --version                 print the version
  wa-webhookd --help                    print this help

Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.`;

const SUBCOMMANDS = ["serve", "check", "sign", "version", "help"] as const;

export function parseCommand(argv: readonly string[]): Command {
  const first = argv[0];
  const hasSub = first !== undefined && !first.startsWith("-");
  if (hasSub && !(SUBCOMMANDS as readonly string[]).includes(first)) {
    return { kind: "usage_error", message: `unknown command "${first}"` };
  }
  const sub = (hasSub ? first : "serve") as (typeof SUBCOMMANDS)[number];
  let values: { config?: string; secret?: string; version?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv.slice(hasSub ? 1 : 0)],
      options: {
        config: { type: "string", short: "c" },
        secret: { type: "string" },
        version: { type: "boolean", short: "V" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return { kind: "usage_error", message: (err as Error).message };
  }
  if (values.secret !== undefined && sub !== "sign") {
    return { kind: "usage_error", message: "--secret is only valid with the sign command" };
  }
  if (values.help || sub === "help") return { kind: "help" };
  if (values.version || sub === "version") return { kind: "version" };
  const config = values.config ?? null;
  if (sub === "sign") return { kind: "sign", config, secret: values.secret ?? null };
  return { kind: sub as "serve" | "check", config };
}
