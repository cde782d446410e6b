/** The compiled binary's command line: exit codes, messages, masking. */
import { Database } from "bun:sqlite";
import { beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { hubSignature } from "../../src/ingest/signature";
import { BINARY, requireBinary, runBinary, SECRETS, startDaemon, tempDir, writeConfig } from "../support/daemon";

beforeAll(requireBinary);

const run = (args: string[], stdin?: string) => runBinary(args, { stdin });

test("--version prints the injected version", () => {
  const r = run(["--version"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^wa-webhookd \d+\.\d+\.\d+\+\S+\n$/);
});

test("--help prints usage on stdout", () => {
  const r = run(["--help"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("wa-webhookd check");
});

for (const args of [["--bogus"], ["frobnicate"], ["serve", "stray"]]) {
  test(`${args.join(" ")} → usage on stderr, exit 2`, () => {
    const r = run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Usage:");
    expect(r.stdout).toBe("");
  });
}

test("check prints the effective config with secrets masked", () => {
  const r = run(["check", "--config", writeConfig(tempDir())]);
  expect(r.code).toBe(0);
  const json = JSON.parse(r.stdout.slice(r.stdout.indexOf("\n") + 1));
  expect(json.whatsapp.app_secrets).toEqual(["********", "********"]);
  expect(json.server.max_body_bytes).toBe(65536);
  for (const s of SECRETS) expect(r.stdout).not.toContain(s);
});

test("a broken config names the key, exits 2, no stack trace", () => {
  const path = join(tempDir(), "bad.toml");
  writeFileSync(path, '[server]\nlisten = "nope"\n[whatsapp]\nverify_token = "${MISSING_VAR}"\napp_secrets = ["a"]\n[admin]\ntoken = "0123456789abcdef"\n');
  for (const args of [["--config", path], ["check", "--config", path]]) {
    const r = run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("whatsapp.verify_token: environment variable MISSING_VAR is not set");
    expect(r.stderr).not.toContain("    at ");
  }
  const invalid = join(tempDir(), "invalid.toml");
  writeFileSync(invalid, '[server]\nlisten = "nope"\n[whatsapp]\nverify_token = "x"\napp_secrets = ["a"]\n[admin]\ntoken = "0123456789abcdef"\n');
  expect(run(["--config", invalid]).stderr).toContain('server.listen: expected "host:port"');
  expect(run(["--config", join(tempDir(), "missing.toml")]).stderr).toContain("--config: cannot read");
});

test("sign prints the header value for the body on stdin", () => {
  const body = '{"text":"caf\u00e9"}';
  const r = run(["sign", "--config", writeConfig(tempDir())], body);
  expect(r.code).toBe(0);
  expect(r.stdout.trim()).toBe(hubSignature(body, SECRETS[0]!));
});

test("refuses a database newer than the binary, naming the key", async () => {
  const dir = tempDir();
  const config = writeConfig(dir);
  const daemon = await startDaemon(config);
  expect(await daemon.stop()).toBe(0);
  const db = new Database(join(dir, "data/wa.db"));
  db.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future.sql', 'x')");
  db.close();
  const r = run(["--config", config]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("storage.path: database schema version 999 is newer than this binary supports");
});

test("a port already in use names server.listen", async () => {
  const dir = tempDir();
  const first = await startDaemon(writeConfig(dir));
  const config = join(dir, "second.toml");
  writeFileSync(config, (await Bun.file(join(dir, "config.toml")).text()).replace("127.0.0.1:0", `127.0.0.1:${first.port}`).replace("data/wa.db", "data/second.db"));
  const r = run(["--config", config]);
  await first.stop();
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("server.listen: cannot listen on");
});

test("a mistyped option or command gets 'did you mean' and that command's usage, not the whole help", () => {
  const typo = run(["check", "--conifg", "x.toml"]);
  expect(typo.code).toBe(2);
  expect(typo.stdout).toBe("");
  expect(typo.stderr).toStartWith("wa-webhookd: unknown option --conifg; did you mean --config?\n\nUsage:\n  wa-webhookd check [--config FILE] [--unit FILE]\n");
  expect(typo.stderr).toEndWith("(wa-webhookd --help lists every command)\n");
  expect(typo.stderr).not.toContain("replay");
  expect(typo.stderr.split("\n").length).toBeLessThan(12);
  const jobs = run(["jobs", "list", "--jsno"]);
  expect(jobs.stderr).toStartWith("wa-webhookd: unknown option --jsno; did you mean --json?");
  expect(jobs.stderr).toContain("  wa-webhookd jobs list [--config FILE] [--json]\n");
  expect(jobs.stderr).toContain("  wa-webhookd jobs run NAME [--config FILE] [--json]\n");
  const far = run(["tail", "--everything"]);
  expect(far.stderr).toStartWith("wa-webhookd: unknown option --everything (tail takes --config, --help, --version, --type, --json)");
  const serve = run(["--lisen", "127.0.0.1:9090"]);
  expect(serve.stderr).toStartWith("wa-webhookd: unknown option --lisen; did you mean --listen?\n\nUsage:\n  wa-webhookd [serve] [--config FILE] [--listen HOST:PORT]\n");
  const command = run(["chek", "--config", "x.toml"]);
  expect({ code: command.code, first: command.stderr.split("\n")[0] }).toEqual({ code: 2, first: 'wa-webhookd: unknown command "chek"; did you mean "check"?' });
  // A usage error found after parsing (an unknown --type) shows that command's usage too.
  const late = run(["send-test", "--type", "txet"]);
  expect(late.code).toBe(2);
  expect(late.stderr).toContain('wa-webhookd: --type: no sample "txet" (did you mean "text"?); the types are');
  expect(late.stderr).toContain("Usage:\n  wa-webhookd send-test [--config FILE]");
  expect(late.stderr).not.toContain("replay");
});

test("a TOML syntax error names the file's path, line and column", () => {
  const path = join(tempDir(), "broken.toml");
  writeFileSync(path, '[server]\nlisten = "127.0.0.1:8080\n');
  const r = run(["check", "--config", path]);
  expect(r.code).toBe(2);
  expect(r.stderr).toStartWith(`wa-webhookd: config error\n  ${path}: invalid TOML: `);
  expect(r.stderr).toContain("(line 2, column");
});

test("--help shows --config as optional where it is, and a command that falls back to the dev config says so", () => {
  expect(run(["--help"]).stdout).toContain("wa-webhookd tail [--config FILE] [--type TYPE] [--json]");
  const cwd = tempDir();
  const r = runBinary(["tail"], { cwd });
  expect(r.code).toBe(1);
  expect(r.stderr).toStartWith(`wa-webhookd: no --config: using the embedded dev config (database ${cwd}/data/wa-webhookd.db)\nwa-webhookd: storage.path: no database at ${cwd}/data/wa-webhookd.db`);
});

test("a daemon that cannot start says so once wherever stdout and stderr go to one place: plain at a terminal, a JSON line otherwise", async () => {
  const dir = tempDir();
  const config = writeConfig(dir);
  const first = await startDaemon(config);
  try {
    const second = `${BINARY} --config ${config} --listen 127.0.0.1:0`;
    const said = (out: string) => out.split(/\r?\n/).filter((l) => l.includes("cannot start"));
    // Apart (the test's pipes): the plain message on stderr, the log line on stdout.
    const apart = run(["--config", config, "--listen", "127.0.0.1:0"]);
    expect(apart.code).toBe(1);
    expect(said(apart.stderr)).toEqual([expect.stringMatching(/^wa-webhookd: cannot start: storage\.path: another wa-webhookd is already running on /)]);
    expect(said(apart.stdout)).toEqual([expect.stringContaining('"msg":"cannot start"')]);
    // One pipe for both (the journal, `2>&1 | …`): the JSON line alone.
    const piped = Bun.spawnSync(["sh", "-c", `${second} 2>&1`]);
    expect(said(piped.stdout.toString())).toEqual([expect.stringContaining('"msg":"cannot start"')]);
    // A terminal (`make run` in a shell): the plain message alone.
    const tty = Bun.spawnSync(["script", "-qec", second, "/dev/null"]);
    expect(said(tty.stdout.toString())).toEqual([expect.stringMatching(/^wa-webhookd: cannot start: storage\.path: another wa-webhookd is already running on /)]);
  } finally {
    await first.stop();
  }
});

test("storage.path under a file: the daemon cannot start and says which path, and check warns before it", () => {
  const dir = tempDir();
  writeFileSync(join(dir, "not-a-dir"), "");
  const config = writeConfig(dir, { storagePath: join(dir, "not-a-dir", "data", "wa.db") });
  const start = runBinary(["--config", config]);
  expect(start.code).toBe(1);
  expect(start.stderr).toContain(`cannot start: storage.path: cannot use ${join(dir, "not-a-dir", "data", "wa.db")}: ${join(dir, "not-a-dir")} is not a directory`);
  const check = runBinary(["check", "--config", config]);
  expect(check.code).toBe(0);
  expect(check.stderr).toContain(`warning: storage.path: ${join(dir, "not-a-dir")} is not a directory: a daemon run as this user cannot start`);
});
