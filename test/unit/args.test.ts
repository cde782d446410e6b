import { expect, test } from "bun:test";
import { parseCommand } from "../../src/cli/args";

const cases: [argv: string[], expected: ReturnType<typeof parseCommand>["kind"], extra?: object][] = [
  [[], "serve", { config: null }],
  [["--config", "c.toml"], "serve", { config: "c.toml" }],
  [["serve", "-c", "c.toml"], "serve", { config: "c.toml" }],
  [["--config=c.toml"], "serve", { config: "c.toml" }],
  [["check", "--config", "c.toml"], "check", { config: "c.toml" }],
  [["sign", "--secret", "s"], "sign", { secret: "s", config: null }],
  [["log-gap", "--config", "c.toml"], "log-gap", { config: "c.toml", skip: false, json: false }],
  [["log-gap", "--skip", "--json"], "log-gap", { config: null, skip: true, json: true }],
  [["log-gap", "--hook", "x"], "usage_error"],
  [["--version"], "version"],
  [["-V"], "version"],
  [["--help"], "help"],
  [["check", "--help"], "help"],
  [["frobnicate"], "usage_error"],
  [["--frobnicate"], "usage_error"],
  [["serve", "extra-positional"], "usage_error"],
  [["--config"], "usage_error"],
  [["serve", "--secret", "s"], "usage_error"],
  [["replay", "--type", "message.received", "--hook", "app"], "replay", { selection: { type: "message.received", eventId: null, since: null, until: null }, hook: "app", force: false }],
  [["replay", "--event", "evt_1"], "replay", { selection: { eventId: "evt_1", type: null, since: null, until: null }, hook: null }],
  [["replay"], "usage_error"],
  [["replay", "--inbox", "3"], "usage_error"],
  [["retry-dead", "--hook", "app"], "retry-dead", { hook: "app" }],
  [["reprocess", "--inbox", "7"], "reprocess", { inbox: 7 }],
  [["orphans"], "orphans", { hook: null, action: null, json: false }],
  [["orphans", "--hook", "crm", "--cancel", "--json"], "orphans", { hook: "crm", action: { action: "cancel" }, json: true }],
  [["orphans", "--move-to", "app"], "orphans", { hook: null, action: { action: "move", to: "app" } }],
  [["replay", "--since", "2026-11-20", "--cancel"], "usage_error"],
  [["check", "--hook", "x"], "usage_error"],
];

for (const [argv, kind, extra] of cases) {
  test(`wa-webhookd ${argv.join(" ") || "(no args)"} → ${kind}`, () => {
    const command = parseCommand(argv);
    expect(command.kind).toBe(kind);
    if (extra) expect(command).toMatchObject(extra);
  });
}

const usageErrors: [argv: string[], message: string][] = [
  [["reprocess", "--inbox", "abc"], '--inbox: expected a positive row id, got "abc"'],
  [["reprocess", "--inbox", "0"], "--inbox: expected a positive row id"],
  [["replay", "--since", "yesterday"], '--since: expected an RFC 3339 time such as 2026-11-20T08:00:00Z or a date such as 2026-11-20, got "yesterday"'],
  [["replay", "--since", "1"], "--since: expected an RFC 3339 time"],
  [["replay", "--since", "2026-11-20T08:00:00"], "--since: expected an RFC 3339 time"], // no offset: ambiguous
  [["replay", "--since", "2026-11-20", "--until", "2026-11-19"], "--until must be later than --since"],
  [["replay", "--type", "mesage.*"], '--type: "mesage.*" matches no event type; known types: message.received,'],
  [["replay", "--type", "message.[a-z]*"], "--type: expected an event type or a glob such as 'message.*'"],
  [["replay", "--since", "2026-11-20", "--force"], "--force needs --hook"],
  [["sign", "--config", "c.toml", "--secret", "s"], "give --config or --secret, not both"],
  [["orphans", "--cancel", "--move-to", "app"], "give --cancel or --move-to HOOK, not both"],
  [["orphans", "--move-to"], "Option '--move-to <value>' argument missing"],
  [["serve", "--listen", "9090"], '--listen: expected "host:port"'],
  [["check", "--listen", "127.0.0.1:9090"], "--listen is not an option of check"],
];

for (const [argv, message] of usageErrors) {
  test(`wa-webhookd ${argv.join(" ")} → usage error "${message}"`, () => {
    const command = parseCommand(argv);
    expect(command.kind).toBe("usage_error");
    expect((command as { message: string }).message).toStartWith(message);
  });
}

test("--since/--until accept RFC 3339 with an offset, or a date (UTC midnight)", () => {
  expect(parseCommand(["replay", "--since", "2026-11-20", "--until", "2026-11-20T09:30:00+01:00"])).toMatchObject({
    selection: { since: Date.parse("2026-11-20T00:00:00Z"), until: Date.parse("2026-11-20T08:30:00Z") },
  });
});

test("replay --type takes a glob that matches a known type; --hook with --force; --json", () => {
  expect(parseCommand(["replay", "--type", "message.*", "--hook", "app", "--force", "--json"])).toMatchObject({
    selection: { type: "message.*" },
    hook: "app",
    force: true,
    json: true,
  });
});

test("serve --listen overrides the config's address", () => {
  expect(parseCommand(["--listen", "127.0.0.1:9090"])).toEqual({ kind: "serve", config: null, listen: "127.0.0.1:9090" });
});
