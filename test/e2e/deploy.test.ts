/**
 * The deploy files with the real programs: the systemd unit passes `systemd-analyze
 * verify` and scores well on `systemd-analyze security`; deploy/config.toml is a valid
 * config; the binary runs under memory-deny-write-execute (what the unit leaves off,
 * and why: docs/deploy.md); and deploy/Caddyfile, run by the real Caddy with
 * `tls internal`, passes the handshake and a signed POST over HTTPS byte for byte, with
 * the real client address, and keeps /v1, /docs and /metrics private. The guide's own
 * steps 2 and 3 run as written on a fresh directory tree and end in a passing `check`
 * before the unit has ever run. Each part skips,
 * saying why, only where its program cannot be had (.ci/run installs caddy).
 */
import { beforeAll, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { BINARY, readInbox, requireBinary, SECRETS, startDaemon, stopAfterEach, tempDir, VERIFY_TOKEN, waitFor, writeConfig } from "../support/daemon";
import { signedPost, textMessage } from "../support/webhooks";
import { closedPort } from "../support/sink";
import { parseDuration } from "../../src/config/duration";

beforeAll(requireBinary);
const { daemons } = stopAfterEach();

const DEPLOY = join(import.meta.dir, "../../deploy");
/** Credentials in the form their issuers give them (others: any text). */
const CREDENTIALS: Record<string, string> = { hook_secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", app_secrets: "0123456789abcdef0123456789abcdef\n" };
const UNIT = readFileSync(join(DEPLOY, "wa-webhookd.service"), "utf8");
const has = (program: string) => Bun.which(program) !== null;
const skip = (program: string, why: string) => {
  if (has(program)) return false;
  console.log(`skipping: ${why}: no ${program} here`);
  return true;
};

test.skipIf(skip("systemd-analyze", "the systemd unit checks"))("the unit passes systemd-analyze verify without a warning, and its security exposure is low", () => {
  const dir = tempDir();
  const unit = join(dir, "wa-webhookd.service");
  writeFileSync(unit, UNIT.replace("/usr/local/bin/wa-webhookd", BINARY));
  const verify = Bun.spawnSync(["systemd-analyze", "verify", unit]);
  expect({ code: verify.exitCode, output: (verify.stdout.toString() + verify.stderr.toString()).trim() }).toEqual({ code: 0, output: "" });
  const security = Bun.spawnSync(["systemd-analyze", "security", "--offline=yes", unit]);
  const score = /Overall exposure level for wa-webhookd\.service: ([\d.]+)/.exec(security.stdout.toString());
  expect(score).not.toBeNull();
  console.log(`systemd-analyze security: exposure ${score![1]} (0 = fully locked down, 10 = none)`);
  expect(Number(score![1])).toBeLessThanOrEqual(2);
});

test("the unit's stop timeout outlasts the config's shutdown_timeout; the deploy config is valid", async () => {
  const stopSec = parseDuration(/^TimeoutStopSec=(\S+)$/m.exec(UNIT)![1]!)!;
  const config = readFileSync(join(DEPLOY, "config.toml"), "utf8");
  expect(stopSec).toBeGreaterThan(parseDuration(/^shutdown_timeout = "(\S+)"$/m.exec(config)![1]!)!);
  expect(UNIT).toContain("ExecReload=/bin/kill -HUP $MAINPID");
  // The credentials the unit loads are the files the config reads.
  const credentials = [...UNIT.matchAll(/^LoadCredential=([a-z_]+):/gm)].map((m) => m[1]!).sort();
  expect([...config.matchAll(/\/run\/credentials\/wa-webhookd\.service\/([a-z_]+)"/g)].map((m) => m[1]!).sort()).toEqual(credentials);
  const dir = tempDir();
  for (const name of credentials) writeFileSync(join(dir, name), CREDENTIALS[name] ?? `${name}-value-0123456789\n`, { mode: 0o600 });
  const local = join(dir, "config.toml");
  writeFileSync(local, config.replaceAll("/run/credentials/wa-webhookd.service", dir).replace("/var/lib/wa-webhookd", join(dir, "state")), { mode: 0o600 });
  const check = Bun.spawnSync([BINARY, "check", "--config", local]);
  expect({ code: check.exitCode, stderr: check.stderr.toString() }).toEqual({ code: 0, stderr: "" });
});

/** The shell blocks of one numbered section of docs/deploy.md ("## 3. Config and unit"). */
function guideSteps(guide: string, step: number): string[] {
  const section = guide.split(/^## /m).find((s) => s.startsWith(`${step}. `))!;
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/**
 * A fresh server in a directory: the directories Debian comes with, what step 1 leaves (the binary on PATH, deploy/ and the
 * guide in ~/wa-webhookd), with /etc, /usr and /var under `root`. /run is left alone: the
 * unit has never run, so /run/credentials/wa-webhookd.service does not exist.
 */
function freshServer() {
  const root = tempDir("wa-deploy-");
  const rooted = (text: string) => text.replace(/(?<![\w.~-])\/(etc|usr|var)\//g, `${root}/$1/`);
  for (const dir of ["usr/local/bin", "usr/local/share", "etc/systemd/system", "var/lib"]) mkdirSync(join(root, dir), { recursive: true }); // as on a fresh Debian
  symlinkSync(BINARY, join(root, "usr/local/bin/wa-webhookd"));
  const copy = join(root, "root/wa-webhookd");
  mkdirSync(join(copy, "deploy"), { recursive: true });
  mkdirSync(join(copy, "docs"));
  for (const file of readdirSync(DEPLOY)) writeFileSync(join(copy, "deploy", file), rooted(readFileSync(join(DEPLOY, file), "utf8")));
  copyFileSync(GUIDE, join(copy, "docs/deploy.md"));
  const run = (script: string) => {
    const proc = Bun.spawnSync(["bash", "-e", "-c", rooted(script)], { cwd: join(root, "root"), env: { HOME: join(root, "root"), PATH: `${join(root, "usr/local/bin")}:${process.env.PATH}` } });
    return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
  };
  return { root, run };
}

const GUIDE = join(import.meta.dir, "../../docs/deploy.md");
const NOT_META_FORM = "is not 32 hexadecimal characters, the form of Meta's app secrets (App Dashboard → App settings → Basic → App secret): webhooks Meta signs will be refused (401) unless it is the app's secret";

test("docs/deploy.md steps 2 and 3, run as written on a fresh server before the unit ever ran: the check passes, reading the unit's credentials", () => {
  expect(existsSync("/run/credentials/wa-webhookd.service")).toBe(false);
  const guide = readFileSync(GUIDE, "utf8");
  expect(guide).toContain("in that copy: `cd ~/wa-webhookd`");
  const { root, run } = freshServer();
  const steps = [...guideSteps(guide, 2), ...guideSteps(guide, 3)];
  expect(steps.join("\n")).toContain("wa-webhookd check --config /etc/wa-webhookd/config.toml --unit /etc/systemd/system/wa-webhookd.service");
  const r = run(["cd ~/wa-webhookd", ...steps].join("\n"));
  // The guide's placeholder is not in the form of Meta's app secrets: the check says so, and passes.
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: `wa-webhookd: warning: whatsapp.app_secrets[0]: ${NOT_META_FORM}\n` });
  expect(r.stdout).toStartWith(`# ${root}/etc/wa-webhookd/config.toml: ok (database: ${root}/var/lib/wa-webhookd/wa-webhookd.db, credentials as ${root}/etc/systemd/system/wa-webhookd.service provides them)`);
  const credentials = join(root, "etc/wa-webhookd/credentials");
  expect(statSync(credentials).mode & 0o777).toBe(0o700);
  for (const name of readdirSync(credentials)) {
    expect({ name, mode: statSync(join(credentials, name)).mode & 0o777 }).toEqual({ name, mode: 0o600 });
    expect(r.stdout).not.toContain(readFileSync(join(credentials, name), "utf8").trim());
  }
  expect(JSON.parse(r.stdout.slice(r.stdout.indexOf("\n") + 1)).admin.token).toBe("********");
  // The unit's Documentation= is a file the steps installed.
  const documentation = /^Documentation=file:\/\/(\S+)$/m.exec(UNIT)![1]!;
  expect(existsSync(join(root, documentation))).toBe(true);

  // Without --unit the check stops at the directory the unit has not made yet, and says what to do.
  const without = run("wa-webhookd check --config /etc/wa-webhookd/config.toml");
  expect(without.code).toBe(2);
  expect(without.stderr).toContain("whatsapp.verify_token_file: cannot read /run/credentials/wa-webhookd.service/verify_token: ENOENT (systemd makes that directory only while wa-webhookd.service runs; before that, check with --unit /etc/systemd/system/wa-webhookd.service)");
  // A credential the config reads but the unit does not load, and a source file missing, are named.
  const broken = run("sed -i '/^LoadCredential=hook_secret:/d' /etc/systemd/system/wa-webhookd.service && rm /etc/wa-webhookd/credentials/admin_token && wa-webhookd check --config /etc/wa-webhookd/config.toml --unit /etc/systemd/system/wa-webhookd.service");
  expect(broken.code).toBe(2);
  expect(broken.stderr).toContain(`admin.token_file: cannot read /run/credentials/wa-webhookd.service/admin_token: its LoadCredential= source ${root}/etc/wa-webhookd/credentials/admin_token: ENOENT`);
  expect(broken.stderr).toContain('hooks[0].secret_file: cannot read /run/credentials/wa-webhookd.service/hook_secret: wa-webhookd.service loads no credential "hook_secret"');
  expect(run("wa-webhookd check --config /etc/wa-webhookd/config.toml --unit /etc/systemd/system/nope.service").stderr).toContain(`--unit: cannot read ${root}/etc/systemd/system/nope.service: ENOENT`);
});

/** A wrapper that turns on PR_SET_MDWE (what MemoryDenyWriteExecute= enforces) and execs. */
function mdweWrapper(): string | null {
  if (!has("cc")) return null;
  const dir = tempDir();
  writeFileSync(
    join(dir, "mdwe.c"),
    `#include <sys/prctl.h>\n#include <unistd.h>\n#include <stdio.h>\nint main(int c, char **v) { if (prctl(65, 1, 0, 0, 0)) { perror("PR_SET_MDWE"); return 125; } execv(v[1], v + 1); return 126; }\n`,
  );
  const built = Bun.spawnSync(["cc", "-o", join(dir, "mdwe"), join(dir, "mdwe.c")]);
  if (built.exitCode !== 0) return null;
  return Bun.spawnSync([join(dir, "mdwe"), "/bin/true"]).exitCode === 0 ? join(dir, "mdwe") : null;
}
const mdwe = mdweWrapper();
if (!mdwe) console.log("skipping the memory-deny-write-execute run: no C compiler or no PR_SET_MDWE in this kernel");

test.skipIf(mdwe === null)("under memory-deny-write-execute the daemon still starts and stores (Bun falls back from its JIT)", async () => {
  const config = writeConfig(tempDir());
  const daemon = await startDaemon(config, [mdwe!, BINARY, "--config", config]);
  daemons.push(daemon);
  expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.MDWE"))).status).toBe(200);
});

/** HTTPS through Caddy from a given local address, trusting Caddy's internal CA. */
function viaCaddy(port: number, ca: string, path: string, init: { method?: string; body?: string; headers?: Record<string, string>; from?: string } = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const headers = { host: `localhost:${port}`, ...init.headers }; // the site's name, or Caddy answers an empty 200
    const req = request({ host: "127.0.0.1", servername: "localhost", port, path, method: init.method ?? "GET", headers, ca, localAddress: init.from }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c) => (body += c)).on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

test.skipIf(skip("caddy", "the Caddy test"))("through deploy/Caddyfile over HTTPS: handshake, a signed POST stored byte for byte with the client's address; admin, console, docs and metrics not public", async () => {
  const dir = tempDir();
  // Only Caddy's address is a trusted proxy, so the client (from 127.0.0.2) must come from its X-Forwarded-For.
  const daemon = await startDaemon(writeConfig(dir, { logLevel: "debug", server: 'trusted_proxies = ["127.0.0.1/32"]' }));
  daemons.push(daemon);
  const port = closedPort();
  // The shipped Caddyfile, with a local site and Caddy's own CA instead of a public domain.
  const site = readFileSync(join(DEPLOY, "Caddyfile"), "utf8")
    .replace("webhooks.example.com {", `localhost:${port} {\n\ttls internal`)
    .replace("reverse_proxy 127.0.0.1:8080", `reverse_proxy 127.0.0.1:${daemon.port}`)
    .replace("max_size 4194304", "max_size 65536"); // the test config's max_body_bytes
  const caddyfile = join(dir, "Caddyfile");
  writeFileSync(caddyfile, `{\n\tadmin off\n\tskip_install_trust\n\tauto_https disable_redirects\n}\n${site}`);
  mkdirSync(join(dir, "caddy"));
  const caddy = Bun.spawn(["caddy", "run", "--config", caddyfile, "--adapter", "caddyfile"], { env: { ...process.env, XDG_DATA_HOME: join(dir, "caddy"), XDG_CONFIG_HOME: join(dir, "caddy"), HOME: dir }, stdout: "pipe", stderr: "pipe" });
  try {
    const root = join(dir, "caddy/caddy/pki/authorities/local/root.crt");
    await waitFor(() => existsSync(root), 15_000);
    const ca = readFileSync(root, "utf8");
    await waitFor(async () => (await viaCaddy(port, ca, "/healthz").catch(() => null))?.status === 200, 15_000);

    const handshake = await viaCaddy(port, ca, `/webhook?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`);
    expect(handshake).toEqual({ status: 200, body: "1158201444" });

    const body = textMessage("wamid.CADDY", "Grüße über HTTPS ✓");
    const signature = "sha256=" + new Bun.CryptoHasher("sha256", SECRETS[0]!).update(body).digest("hex");
    const post = await viaCaddy(port, ca, "/webhook", { method: "POST", body, headers: { "content-type": "application/json", "x-hub-signature-256": signature }, from: "127.0.0.2" });
    expect(post.status).toBe(200);
    // Acknowledged once in the inbox log; indexed into SQLite moments later.
    await waitFor(() => readInbox(join(dir, "data/wa.db")).length === 1, 5_000);
    const [row] = readInbox(join(dir, "data/wa.db"));
    expect(Buffer.from(row!.body).equals(Buffer.from(body))).toBe(true);
    expect(row!.remote_addr).toBe("127.0.0.2");
    expect(daemon.lines.some((l) => l.includes('"msg":"stored"') && l.includes('"remote":"127.0.0.2"'))).toBe(true);

    for (const path of ["/v1/stats", "/console", "/docs", "/docs/json", "/metrics"]) expect({ path, status: (await viaCaddy(port, ca, path)).status }).toEqual({ path, status: 404 });
    // Past request_body's max_size the body is refused: by Caddy (413 from Caddy 2.7 on,
    // 502 from Debian 12's Caddy 2.6), or, when Caddy has already started passing it on,
    // by the daemon's own limit (413). Never stored.
    const rejected = () => daemon.lines.filter((l) => l.includes('"msg":"webhook rejected"')).map((l) => JSON.parse(l).status as number);
    const rejectedBefore = rejected().length;
    const big = await viaCaddy(port, ca, "/webhook", { method: "POST", body: "x".repeat(70_000), headers: { "content-type": "application/json" } });
    expect([413, 502]).toContain(big.status);
    expect(readInbox(join(dir, "data/wa.db"))).toHaveLength(1);
    expect(rejected().slice(rejectedBefore).every((status) => status === 413)).toBe(true);
  } finally {
    caddy.kill();
    await caddy.exited;
  }
});
