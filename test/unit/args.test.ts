import { expect, test } from "bun:test";
import { parseCommand } from "../../src/cli/args";

const cases: [argv: string[], expected: ReturnType<typeof parseCommand>["kind"], extra?: object][] = [
  [[], "serve", { config: null }],
  [["--config", "c.toml"], "serve", { config: "c.toml" }],
  [["serve", "-c", "c.toml"], "serve", { config: "c.toml" }],
  [["--config=c.toml"], "serve", { config: "c.toml" }],
  [["check", "--config", "c.toml"], "check", { config: "c.toml" }],
  [["sign", "--secret", "s"], "sign", { secret: "s", config: null }],
  [["--version"], "version"],
  [["-V"], "version"],
  [["--help"], "help"],
  [["check", "--help"], "help"],
  [["frobnicate"], "usage_error"],
  [["--frobnicate"], "usage_error"],
  [["serve", "extra-positional"], "usage_error"],
  [["--config"], "usage_error"],
  [["serve", "--secret", "s"], "usage_error"],
  [["replay", "--type", "message.received", "--hook", "app"], "replay", { type: "message.received", hook: "app", event: null }],
  [["replay", "--event", "evt_1"], "replay", { event: "evt_1" }],
  [["replay"], "usage_error"],
  [["replay", "--inbox", "3"], "usage_error"],
  [["retry-dead", "--hook", "app"], "retry-dead", { hook: "app" }],
  [["reprocess", "--inbox", "7"], "reprocess", { inbox: "7" }],
  [["check", "--hook", "x"], "usage_error"],
];

for (const [argv, kind, extra] of cases) {
  test(`wa-webhookd ${argv.join(" ") || "(no args)"} → ${kind}`, () => {
    const command = parseCommand(argv);
    expect(command.kind).toBe(kind);
    if (extra) expect(command).toMatchObject(extra);
  });
}
