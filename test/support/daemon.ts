/**
 * Runs the compiled binary (dist/wa-webhookd) for end-to-end tests: a temp dir,
 * port 0, and the real port read from the "listening" log line.
 */
import { Database } from "bun:sqlite";
import { afterEach } from "bun:test";
import type { Sink } from "./sink";
import { existsSync, mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { keyedRedactor, redactionKey } from "../../src/util/redact";


const E2E_ADMIN_TOKEN = "e2e-admin-token-0123456789";
/** A wamid as a daemon of writeConfig's logs it: a keyed hash (Meta's wamid holds the person's number). */
export const wamidInLog = (wamid: string) => keyedRedactor(redactionKey({ redact: true }, E2E_ADMIN_TOKEN)!).message(wamid);
export const BINARY = resolve(import.meta.dir, "../../dist/wa-webhookd");
export const SECRETS = ["e2e-secret-one", "e2e-secret-two"];
export const VERIFY_TOKEN = "e2e-verify-token";

export function requireBinary() {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run \`make build\` (make test does it for you)`);
}

/**
 * Runs the binary to completion, as an operator's shell would: only PATH (plus `env`)
 * in the environment, in `cwd` (default: the test's).
 */
export function runBinary(args: string[], opts: { stdin?: string; cwd?: string; env?: Record<string, string> } = {}) {
  const proc = Bun.spawnSync([BINARY, ...args], {
    stdin: opts.stdin === undefined ? "ignore" : Buffer.from(opts.stdin),
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? "", ...opts.env },
  });
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

/** Resident memory of a process, from /proc (Linux), in MiB. */
export function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
}

/** Polls until `check` holds; throws after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await Bun.sleep(25);
  }
}

export function tempDir(prefix = "wa-e2e-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface WriteConfigOptions {
  storagePath?: string;
  maxBodyBytes?: number;
  lockTimeout?: string;
  logLevel?: string;
  listen?: string;
  server?: string;
  admin?: string;
  log?: string;
  toml?: string;
  /** The [storage] table's keys instead of the SQLite file's (test/support/engine.ts: a PostgreSQL database). */
  storage?: string;
}

export function writeConfig(
  dir: string,
  extra: WriteConfigOptions = {},
): string {
  const path = join(dir, "config.toml");
  writeFileSync(
    path,
    `[server]
listen = "${extra.listen ?? "127.0.0.1:0"}"
webhook_path = "/webhook"
max_body_bytes = ${extra.maxBodyBytes ?? 65536}
shutdown_timeout = "5s"
${extra.server ?? ""}

[storage]
${extra.storage ?? `path = "${extra.storagePath ?? join(dir, "data/wa.db")}"
synchronous = "full"`}
lock_timeout = "${extra.lockTimeout ?? "3s"}"

[whatsapp]
verify_token = "${VERIFY_TOKEN}"
app_secrets = ${JSON.stringify(SECRETS)}

[admin]
token = "${E2E_ADMIN_TOKEN}"
${extra.admin ?? ""}

[log]
level = "${extra.logLevel ?? "info"}"
${extra.log ?? ""}
${extra.toml ?? ""}
`,
    { mode: 0o600 }, // it holds secrets
  );
  return path;
}

export interface Daemon {
  url: string;
  port: number;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Every stdout line so far (JSON logs). */
  lines: string[];
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** Starts `cmd` (default: the binary with --config) and waits until it listens. */
export async function startDaemon(
  configPath: string,
  cmd: string[] = [BINARY, "--config", configPath],
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Promise<Daemon> {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", stdin: "ignore", cwd: opts.cwd, env: { ...process.env, ...opts.env } });
  const lines: string[] = [];
  let port = 0;
  let resolveListening: (p: number) => void = () => {};
  const listening = new Promise<number>((r) => (resolveListening = r));
  void (async () => {
    const decoder = new TextDecoder();
    let partial = "";
    for await (const chunk of proc.stdout) {
      partial += decoder.decode(chunk, { stream: true });
      const parts = partial.split("\n");
      partial = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        const match = /"msg":"listening".*"listen":"[^"]*:(\d+)"/.exec(line);
        if (match) resolveListening(Number(match[1]));
      }
    }
  })();
  const exited = proc.exited.then(() => 0);
  const winner = await Promise.race([listening, exited, Bun.sleep(15_000).then(() => -1)]);
  if (winner <= 0) {
    proc.kill("SIGKILL");
    const stderr = await new Response(proc.stderr).text();
    throw new Error(`daemon did not start listening:\n${lines.join("\n")}\n${stderr}`);
  }
  port = winner;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    proc,
    lines,
    stop: async (signal = "SIGTERM") => {
      proc.kill(signal);
      return proc.exited;
    },
  };
}

export interface InboxRow {
  id: number;
  body: Uint8Array;
  signature: string;
  parseable: number;
  user_agent: string | null;
  remote_addr: string | null;
}

export function readInbox(dbPath: string): InboxRow[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.query<InboxRow, []>("SELECT id, body, signature, parseable, user_agent, remote_addr FROM inbox JOIN inbox_bodies ON inbox_id = id ORDER BY id").all();
  } finally {
    db.close();
  }
}

/** The sinks and daemons a test starts (push them here), stopped after each test of the file. */
export function stopAfterEach() {
  const sinks: Sink[] = [];
  const daemons: Daemon[] = [];
  afterEach(async () => {
    sinks.splice(0).forEach((s) => s.stop());
    await Promise.all(daemons.splice(0).map((d) => d.stop()));
  });
  return { sinks, daemons };
}
