/** The compiled binary's command line: exit codes, messages, masking. */
import { Database } from "bun:sqlite";
import { beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { hubSignature } from "../../src/ingest/signature";
import { requireBinary, runBinary, SECRETS, startDaemon, tempDir, writeConfig } from "../support/daemon";

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
