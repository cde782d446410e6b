import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { maskSecrets, parseConfigText } from "../../src/config/load";
import { configProblems } from "../support/config";
import { parseDuration } from "../../src/config/duration";
import type { Config } from "../../src/config/schema";

const MINIMAL = `[whatsapp]\nverify_token = "vt"\napp_secrets = ["s1"]\n[admin]\ntoken = "0123456789abcdef"\n`;

const problems = configProblems;

describe("config", () => {
  test("minimal config gets the documented defaults", () => {
    expect(parseConfigText(MINIMAL, { env: {} })).toEqual({
      server: { listen: "127.0.0.1:8080", webhook_path: "/webhook", max_body_bytes: 4194304, shutdown_timeout: "10s", trusted_proxies: ["127.0.0.0/8", "::1/128"], max_inflight_bytes: 67108864, body_timeout: "20s", idle_timeout: "10s" },
      storage: { engine: "sqlite", path: "data/wa-webhookd.db", synchronous: "full", pool: 16, lock_timeout: "3s", retention: "30d" },
      whatsapp: { verify_token: "vt", app_secrets: ["s1"] },
      admin: { token: "0123456789abcdef" },
      log: { level: "info", traffic_interval: "10s", redact: true },
      worker: { enabled: true, max_attempts: 5, batch_size: 200, lease: "60s" },
      sweeper: { schedule: "*/15 * * * * *", fallback_schedule: "*/5 * * * * *", retention_schedule: "0 30 3 * * *", batch_size: 100 },
      hooks: [],
      fallback: {
        enabled: false,
        mode: "send",
        categories: ["authentication", "utility", "service"],
        unknown_category: "skip",
        stale_after: "15m",
        stale_after_by_category: {},
        not_after: "2h",
        max_stale_ratio: 0.5,
      },
      alerts: {
        format: "json",
        events: ["*"],
        headers: {},
        timeout: "10s",
        retry_schedule: ["5s", "30s", "2m", "10m", "1h", "6h"],
        schedule: "*/5 * * * * *",
        sms_failures: 3,
      },
    });
  });

  test("an alerts kind glob matching nothing is an error listing the kinds", () => {
    expect(problems(MINIMAL + `[alerts]
url = "https://hooks.slack.com/x"
events = ["template.paused", "templte.*"]
`)[0]).toStartWith(
      'alerts.events[1]: "templte.*" matches no alert kind; known kinds: template.paused, template.disabled',
    );
  });

  test("storage.retention shorter than an hour is refused", () => {
    expect(problems(MINIMAL + `[storage]
retention = "10m"
`)).toEqual(['storage.retention: must be at least "1h"']);
  });

  test("fallback.enabled without [fallback.sms] is refused, naming the key", () => {
    expect(problems(MINIMAL + `[fallback]\nenabled = true\n`)).toEqual(["fallback.sms.url: fallback.enabled = true needs [fallback.sms] with a url"]);
  });

  test("a bad sweeper schedule names the key and shows the expected form", () => {
    const found = problems(MINIMAL + `[sweeper]\nschedule = "every minute"\n`);
    expect(found).toHaveLength(1);
    expect(found[0]).toStartWith("sweeper.schedule: expected a cron pattern");
  });

  test("SMS header values are masked by check (they carry the provider's token)", () => {
    const masked = maskSecrets({ fallback: { sms: { url: "https://sms.example/send", headers: { Authorization: "Bearer live-token" } } } }) as { fallback: { sms: { headers: Record<string, string> } } };
    expect(masked.fallback.sms.headers).toEqual({ Authorization: "********" });
  });

  test("a hook gets the documented defaults", () => {
    const text = MINIMAL + `[[hooks]]\nname = "app"\nurl = "http://127.0.0.1:9000/wa-events"\nsecret = "whsec_${Buffer.alloc(24, 7).toString("base64")}"\n`;
    expect(parseConfigText(text, { env: {} }).hooks).toEqual([
      {
        name: "app",
        url: "http://127.0.0.1:9000/wa-events",
        secret: `whsec_${Buffer.alloc(24, 7).toString("base64")}`,
        events: ["*"],
        phone_number_ids: [],
        timeout: "15s",
        concurrency: 8,
        retry_schedule: ["5s", "5m", "30m", "2h", "5h", "10h", "10h"],
      },
    ]);
  });

  const errors: [name: string, text: string, expected: string[]][] = [
    ["invalid TOML names the file", "[whatsapp\n", ["(file): invalid TOML"]],
    ["missing sections are required", "", ["whatsapp: is required", "admin: is required"]],
    ["typo in a key", MINIMAL + "[server]\nlsiten = \"x\"\n", ["server.lsiten: unknown key"]],
    ["bad listen", MINIMAL + "[server]\nlisten = \"8080\"\n", ["server.listen: expected \"host:port\""]],
    ["port out of range", MINIMAL + "[server]\nlisten = \"127.0.0.1:70000\"\n", ["server.listen:"]],
    ["relative webhook path", MINIMAL + "[server]\nwebhook_path = \"webhook\"\n", ["server.webhook_path:"]],
    ["webhook path on a health endpoint", MINIMAL + "[server]\nwebhook_path = \"/readyz\"\n", ["server.webhook_path: must not be one of /healthz, /readyz"]],
    ["webhook path under the admin API", MINIMAL + "[server]\nwebhook_path = \"/v1/webhook\"\n", ["server.webhook_path: must not be one of /healthz, /readyz, /metrics, /docs, /console, /v1 or under them"]],
    ["webhook path under the console", MINIMAL + "[server]\nwebhook_path = \"/console/hook\"\n", ["server.webhook_path: must not be one of"]],
    ["in-flight cap below one body", MINIMAL + "[server]\nmax_inflight_bytes = 1048576\n", ["server.max_inflight_bytes: must be at least server.max_body_bytes"]],
    ["idle timeout past Bun's limit", MINIMAL + "[server]\nidle_timeout = \"5m\"\n", ["server.idle_timeout: must be between"]],
    ["body limit of wrong type", MINIMAL + "[server]\nmax_body_bytes = \"4MB\"\n", ["server.max_body_bytes:"]],
    ["synchronous off is refused", MINIMAL + "[storage]\nsynchronous = \"off\"\n", ["storage.synchronous:"]],
    ["bad duration", MINIMAL + "[storage]\nlock_timeout = \"soon\"\n", ["storage.lock_timeout: expected a duration"]],
    ["no app secrets", MINIMAL.replace('["s1"]', "[]"), ["whatsapp.app_secrets: needs at least one app secret"]],
    ["empty app secret", MINIMAL.replace('["s1"]', '["s1", ""]'), ["whatsapp.app_secrets[1]: must not be empty"]],
    ["short admin token", MINIMAL.replace("0123456789abcdef", "short"), ["admin.token: must be at least 16 characters"]],
    ["bad log level", MINIMAL + "[log]\nlevel = \"verbose\"\n", ['log.level: expected one of "debug", "info", "warn", "error"']],
    ["hook secret not whsec_", MINIMAL + '[[hooks]]\nname = "a"\nurl = "http://x"\nsecret = "plain"\n', ["hooks[0].secret: expected \"whsec_\""]],
    ["hook without a secret", MINIMAL + '[[hooks]]\nname = "a"\nurl = "http://x"\n', ["hooks[0].secret: set exactly one of secret or secrets (or secret_file / secrets_file): the whsec_ key your hook checks signatures with"]],
    ["hook url not http", MINIMAL + '[[hooks]]\nname = "a"\nurl = "ftp://x"\nsecret = "whsec_MDEyMzQ1Njc4OWFiY2RlZg=="\n', ["hooks[0].url:"]],
    ["duplicate hook names", MINIMAL + '[[hooks]]\nname = "a"\nurl = "http://x"\nsecret = "whsec_MDEyMzQ1Njc4OWFiY2RlZg=="\n[[hooks]]\nname = "a"\nurl = "http://y"\nsecret = "whsec_MDEyMzQ1Njc4OWFiY2RlZg=="\n', ['hooks: hook names must be unique: "a" given to more than one [[hooks]]']],
    ["a duration in words", MINIMAL + "[storage]\nretention = \"30 days\"\n", ['storage.retention: expected a duration such as "500ms", "10s", "5m", "2h" or "30d"']],
  ];
  for (const [name, text, expected] of errors) {
    test(`error: ${name}`, () => {
      const got = problems(text);
      for (const e of expected) expect(got.some((g) => g.startsWith(e))).toBe(true);
    });
  }

  test("an unreadable duration is said once, not also as too short", () => {
    expect(problems(MINIMAL + '[storage]\nretention = "30 days"\n')).toEqual(['storage.retention: expected a duration such as "500ms", "10s", "5m", "2h" or "30d"']);
  });

  test("${ENV} is replaced, and a missing variable names the key", () => {
    const text = MINIMAL.replace('"vt"', '"${VT}"').replace('["s1"]', '["${S1}", "literal-${S2}"]');
    expect(parseConfigText(text, { env: { VT: "from-env", S1: "a", S2: "b" } }).whatsapp).toEqual({
      verify_token: "from-env",
      app_secrets: ["a", "literal-b"],
    });
    expect(problems(text, { VT: "x", S1: "a" })).toEqual(["whatsapp.app_secrets[1]: environment variable S2 is not set"]);
  });

  test("secrets from files, for systemd LoadCredential", () => {
    const dir = mkdtempSync(join(tmpdir(), "wa-cfg-"));
    writeFileSync(join(dir, "secrets"), "# rotated 2026-11\nfirst\n\nsecond\n");
    writeFileSync(join(dir, "token"), "admin-token-from-file-123\n");
    const text =
      `[whatsapp]\nverify_token = "vt"\napp_secrets_file = "${dir}/secrets"\n` + `[admin]\ntoken_file = "${dir}/token"\n`;
    const config = parseConfigText(text, { env: {} });
    expect(config.whatsapp.app_secrets).toEqual(["first", "second"]);
    expect(config.admin.token).toBe("admin-token-from-file-123");
    expect(problems(text.replace(`${dir}/token`, `${dir}/missing`))).toEqual([`admin.token_file: cannot read ${dir}/missing: ENOENT`]);
    expect(problems(text.replace("verify_token", 'app_secrets = ["x"]\nverify_token'))).toEqual([
      "whatsapp.app_secrets_file: set either whatsapp.app_secrets or whatsapp.app_secrets_file, not both",
    ]);
  });

  test("a secret from the environment with a newline after it is trimmed, with a warning; any other value is taken as it is", () => {
    const warnings: { key: string; reason: string }[] = [];
    const config = parseConfigText(MINIMAL.replace('app_secrets = ["s1"]', 'app_secrets = ["${SEC_X}"]').replace('verify_token = "vt"', 'verify_token = "${VT}"'), {
      env: { SEC_X: "abcdef0123456789abcdef0123456789\n", VT: "vt" },
      warnings,
    });
    expect(config.whatsapp.app_secrets).toEqual(["abcdef0123456789abcdef0123456789"]);
    expect(warnings).toEqual([{ key: "whatsapp.app_secrets[0]", reason: "environment variable SEC_X has whitespace around its value: trimmed" }]);
    const text = parseConfigText(MINIMAL + '[log]\nlevel = "${LEVEL}"\n', { env: { LEVEL: "info" } });
    expect(text.log.level).toBe("info");
  });

  test("a number out of range says its bound in words", () => {
    expect(configProblems(MINIMAL + "[server]\nmax_inflight_bytes = 1000\n")).toContain("server.max_inflight_bytes: must be at least 1,024");
    expect(configProblems(MINIMAL + "[worker]\nbatch_size = 9999\n")).toEqual(["worker.batch_size: must be at most 5,000"]);
  });

  test("durations that would make a timeout, lease or interval instant are refused, naming the key and the least", () => {
    const problemsOf = (extra: string) => configProblems(MINIMAL + extra, {}, "serve");
    expect(problemsOf('[server]\nbody_timeout = "0s"\n')).toEqual(['server.body_timeout: must be at least "1s"']);
    expect(problemsOf('[log]\ntraffic_interval = "0s"\n')).toEqual(['log.traffic_interval: must be at least "100ms"']);
    expect(problemsOf('[worker]\nlease = "0s"\n')).toEqual(['worker.lease: must be at least "1s"']);
    expect(problemsOf('[[hooks]]\nname = "a"\nurl = "http://127.0.0.1:9/x"\nsecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"\ntimeout = "0s"\n')).toEqual(['hooks[0].timeout: must be at least "100ms"']);
    expect(parseConfigText(MINIMAL + '[server]\nbody_timeout = "1s"\n[worker]\nlease = "1s"\n', { env: {} }).worker.lease).toBe("1s");
  });

  test("durations past what a timer can wait (2^31 ms, ~24.8 days: it would fire at once) are refused, naming the key", () => {
    const problemsOf = (extra: string) => configProblems(MINIMAL + extra, {}, "serve");
    const tooLong = 'must be at most "24d" (a longer timer would fire at once)';
    expect(problemsOf('[server]\nbody_timeout = "30d"\nshutdown_timeout = "25d"\n')).toEqual([`server.shutdown_timeout: ${tooLong}`, `server.body_timeout: ${tooLong}`]);
    expect(problemsOf('[worker]\nlease = "30d"\n')).toEqual([`worker.lease: ${tooLong}`]);
    expect(problemsOf('[[hooks]]\nname = "a"\nurl = "http://127.0.0.1:9/x"\nsecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"\ntimeout = "30d"\n')).toEqual([`hooks[0].timeout: ${tooLong}`]);
    // Not a timer: retention keeps months.
    expect(parseConfigText(MINIMAL + '[storage]\nretention = "400d"\n[server]\nbody_timeout = "24d"\n', { env: {} }).storage.retention).toBe("400d");
  });

  test("maskSecrets hides every secret and nothing else", () => {
    const masked = maskSecrets(parseConfigText(MINIMAL, { env: {} })) as Config;
    expect(masked.whatsapp).toEqual({ verify_token: "********", app_secrets: ["********"] });
    expect(masked.admin.token).toBe("********");
    expect(masked.server.listen).toBe("127.0.0.1:8080");
    expect(JSON.stringify(masked)).not.toContain("s1");
  });
});

describe("parseDuration", () => {
  const cases: [string, number | null][] = [
    ["250ms", 250], ["15s", 15_000], ["5m", 300_000], ["2h", 7_200_000], ["7d", 604_800_000],
    ["1h30m", 5_400_000], ["1.5s", 1_500], ["", null], ["10", null], ["5 minutes", null], ["-1s", null],
  ];
  for (const [text, ms] of cases) test(JSON.stringify(text), () => expect(parseDuration(text)).toBe(ms));
});

describe("shipped configs stay valid", () => {
  test("config.example.toml parses with its environment variables set", async () => {
    const text = await Bun.file(join(import.meta.dir, "../../config.example.toml")).text();
    const config = parseConfigText(text, { env: { WA_VERIFY_TOKEN: "v", WA_APP_SECRET: "s", WA_ADMIN_TOKEN: "0123456789abcdef" } });
    expect(config.server.listen).toBe("127.0.0.1:8080");
    expect(config.storage.synchronous).toBe("full");
  });

  test("the embedded dev config parses and stays on loopback", async () => {
    const text = await Bun.file(join(import.meta.dir, "../../src/config/dev.toml")).text();
    expect(parseConfigText(text, { env: {} }).server.listen).toStartWith("127.0.0.1:");
  });
});
