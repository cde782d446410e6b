/** Config errors and warnings a person can act on (issue: operator fixes, item 11), and the operator view (item 5). */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigFile, maskSecrets, maskUrlSecrets, parseConfigText, type ConfigProblem } from "../../src/config/load";
import { configProblems } from "../support/config";
import type { Config } from "../../src/config/schema";

// The app secret in Meta's form (32 hex): any other draws a warning of its own.
const META_SECRET = "0123456789abcdef0123456789abcdef";
const MINIMAL = `[whatsapp]\nverify_token = "vt"\napp_secrets = ["${META_SECRET}"]\n[admin]\ntoken = "0123456789abcdef"\n`;
const WHSEC = `whsec_${Buffer.alloc(24, 7).toString("base64")}`;

const problems = (text: string, purpose: "serve" | "operator" = "serve") => configProblems(text, {}, purpose);

describe("config messages", () => {
  test("a TOML syntax error gives line, column and the offending line", () => {
    const [problem] = problems(MINIMAL + '[server]\nlisten = "127.0.0.1:8080"\nshutdown_timeout = \n');
    expect(problem).toStartWith("(file): invalid TOML: Missing value after '='");
    expect(problem).toContain("(line 8, column 20)");
    expect(problem).toContain("8 | shutdown_timeout = ");
    expect(problem).toContain("^");
  });

  test("a TOML syntax error on a line that may hold a secret shows its shape, never its value", () => {
    const cases = [
      [MINIMAL.replace('token = "0123456789abcdef"', 'token = "admin-token-abcdefghijkl'), "admin-token-abcdefghijkl", 'token = "************************'],
      [MINIMAL.replace(`app_secrets = ["${META_SECRET}"]`, 'app_secrets = ["secretAAAA1111", "secretBBBB2222]'), "secretBBBB2222", 'app_secrets = ["**************", "**************]'],
      [MINIMAL.replace(`app_secrets = ["${META_SECRET}"]`, 'app_secrets = [\n  "secretAAAA1111",\n  "secretBBBB2222\n]'), "secretBBBB2222", '  "**************'],
      [MINIMAL.replace('verify_token = "vt"', "verify_token = secretZZZ9"), "secretZZZ9", "verify_token = **********"],
      [MINIMAL + '[[hooks]]\nname = "crm"\nurl = "https://h.example/in?token=QUERY666\n', "QUERY666", "url = "],
    ] as const;
    for (const [text, secret, shown] of cases) {
      const [problem] = problems(text);
      expect(problem).toContain("invalid TOML");
      expect(problem).toContain(shown);
      expect(problem).not.toContain(secret);
    }
    // Any other line is shown as it is.
    expect(problems(MINIMAL + "[server]\nlisten = 127.0.0.1:8080\n")[0]).toContain("listen = 127.0.0.1:8080");
  });

  test("a number where a duration belongs says what to write", () => {
    expect(problems(MINIMAL + "[server]\nshutdown_timeout = 10\n")).toEqual(['server.shutdown_timeout: expected a duration string: write "10s"']);
  });

  test("unknown keys suggest the key that was meant", () => {
    expect(problems(MINIMAL + '[server]\nlsiten = "x"\n')).toEqual(['server.lsiten: unknown key; did you mean "listen"?']);
    expect(problems(MINIMAL + '[storage]\nsyncronous = "full"\n')).toEqual(['storage.syncronous: unknown key; did you mean "synchronous"?']);
    expect(problems(MINIMAL + `[[hooks]]\nname = "a"\nurl = "http://x"\nsecret = "${WHSEC}"\nevent = ["*"]\n`)).toEqual([
      'hooks[0].event: unknown key; did you mean "events"?',
    ]);
    expect(problems(MINIMAL + "[server]\ncompletely_different = 1\n")).toEqual(["server.completely_different: unknown key"]);
  });

  test("a hook events glob matching no known type is an error listing the known types", () => {
    const [problem] = problems(MINIMAL + `[[hooks]]\nname = "a"\nurl = "http://x"\nsecret = "${WHSEC}"\nevents = ["message.*", "mesage.*"]\n`);
    expect(problem).toStartWith('hooks[0].events[1]: "mesage.*" matches no event type; known types: message.received, message.status');
  });

  test('"$VAR" without braces is kept literally, with a warning naming the key', () => {
    const warnings: ConfigProblem[] = [];
    const config = parseConfigText(MINIMAL.replace('"vt"', '"$WA_TOKEN"'), { env: { WA_TOKEN: "x" }, warnings });
    expect(config.whatsapp.verify_token).toBe("$WA_TOKEN");
    expect(warnings).toEqual([{ key: "whatsapp.verify_token", reason: '"$WA_TOKEN" is taken literally; write "${WA_TOKEN}" to read the environment variable' }]);
  });

  test("a value of the wrong type says what to write, not zod's words; a table left out says what goes in it; [hooks] for [[hooks]] is named", () => {
    const said = (text: string) => configProblems(text, {});
    expect(said(MINIMAL + `[server]\nmax_body_bytes = "4MB"\nlisten = 8080\n`)).toEqual([
      "server.listen: must be text in quotes (\"…\")",
      "server.max_body_bytes: must be a number, written without quotes (an ${ENV} reference is read only inside a string setting)",
    ]);
    expect(said(MINIMAL + `[worker]\nenabled = "false"\nbatch_size = 1.5\n`)).toEqual(["worker.enabled: must be true or false, written without quotes", "worker.batch_size: must be a whole number, written without quotes"]);
    expect(said(MINIMAL + `[hooks]\nname = "a"\n`)).toEqual(["hooks: must be a list of tables: write [[hooks]] (two brackets) above each hook"]);
    expect(said(MINIMAL + `[[hooks]]\nname = "a"\nurl = "http://x"\nsecret = "${WHSEC}"\nevents = "message.*"\n`)).toEqual(['hooks[0].events: must be a list in brackets: ["…"]']);
    expect(said(`[admin]\ntoken = "0123456789abcdef"\n`)).toEqual(["whatsapp: is required (a [whatsapp] table with verify_token and app_secrets, or their *_file forms)"]);
    expect(said(MINIMAL + `[fallback]\nenabled = true\n[fallback.sms]\ntimeout = "5s"\n`)).toEqual(["fallback.sms.url: is required: expected an http:// or https:// URL"]);
  });

  test("a fallback deadline at or after not_after is a warning naming both keys", () => {
    const warnings: ConfigProblem[] = [];
    const fallback = `[fallback]\nenabled = true\nstale_after = "3h"\nstale_after_by_category = { authentication = "11m", utility = "2h" }\n[fallback.sms]\nurl = "https://sms.example/send"\n`;
    parseConfigText(MINIMAL + fallback, { env: {}, warnings });
    const past = warnings.filter((w) => w.reason.includes("not shorter than fallback.not_after"));
    expect(past.map((w) => w.key)).toEqual(["fallback.stale_after", "fallback.stale_after_by_category.utility"]);
    expect(past[0]!.reason).toStartWith("(3h) is not shorter than fallback.not_after (2h): no SMS is ever sent on this deadline");
  });

  test("a hook secret without its base64 padding is a warning naming the key, never the secret", () => {
    const unpadded = `whsec_${Buffer.alloc(32, 9).toString("base64").replace(/=+$/, "")}`;
    const warnings: ConfigProblem[] = [];
    parseConfigText(MINIMAL + `[[hooks]]\nname = "a"\nurl = "http://x"\nsecrets = ["${WHSEC}", "${unpadded}"]\n`, { env: {}, warnings });
    expect(warnings.map((w) => w.key)).toEqual(["hooks[0].secrets[1]"]);
    expect(JSON.stringify(warnings)).not.toContain(unpadded.slice(6, 20));
  });

  test("a syntax error on a table header shows the header (it holds no secret)", () => {
    expect(() => parseConfigText(MINIMAL + "[worker\n", { env: {} })).toThrow("6 | [worker\n");
  });

  test("an app secret not in Meta's form (32 hexadecimal characters) is a warning naming its key, never its value", () => {
    const warnings: ConfigProblem[] = [];
    parseConfigText(MINIMAL.replace(`["${META_SECRET}"]`, `["${META_SECRET.toUpperCase()}", "changeme"]`), { env: {}, warnings });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.key).toBe("whatsapp.app_secrets[1]");
    expect(warnings[0]!.reason).toStartWith("is not 32 hexadecimal characters, the form of Meta's app secrets");
    expect(JSON.stringify(warnings)).not.toContain("changeme");
  });

  test("fallback on with the worker off is said at startup: it would do nothing", () => {
    const warnings: ConfigProblem[] = [];
    const fallback = `[fallback]\nenabled = true\ncategories = ["authentication"]\nstale_after = "11m"\n[fallback.sms]\nurl = "https://sms.example/send"\n`;
    parseConfigText(MINIMAL + `[worker]\nenabled = false\n` + fallback, { env: {}, warnings });
    expect(warnings).toEqual([{ key: "fallback.enabled", reason: "has no effect while worker.enabled = false: nothing is tracked and no SMS is sent" }]);
  });

  test("a fallback deadline shorter than an OTP's TTL (10 min) is a warning per key, naming the categories; the 30-day TTL of other templates is not repeated at every start", () => {
    const warnings: ConfigProblem[] = [];
    const fallback = `[fallback]\nenabled = true\ncategories = ["authentication", "utility", "service"]\nstale_after = "15m"\nstale_after_by_category = { authentication = "5m", marketing = "40d" }\n[fallback.sms]\nurl = "https://sms.example/send"\n`;
    parseConfigText(MINIMAL + fallback, { env: {}, warnings });
    // (marketing's 40d is past not_after: a warning of its own, below; utility and service's 15m is the documented default)
    expect(warnings.filter((w) => w.reason.includes("time to live")).map((w) => w.key)).toEqual(["fallback.stale_after_by_category.authentication"]);
    expect(warnings[0]!.reason).toStartWith("is shorter than Meta's default time to live for authentication (Meta's TTL 10m): WhatsApp may still deliver after the SMS");
    const otpDefault: ConfigProblem[] = [];
    parseConfigText(MINIMAL + fallback.replace("authentication = \"5m\", ", ""), { env: {}, warnings: otpDefault });
    expect(otpDefault.filter((w) => w.reason.includes("time to live")).map((w) => w.key)).toEqual([]); // 15m is past an OTP's 10m
    // Meta's spellings: the key is named as the sweeper reads it, and a family's wait holds for its sends priced apart.
    const spelled: ConfigProblem[] = [];
    const family = `[fallback]\nenabled = true\ncategories = ["Authentication-International", "utility"]\nstale_after_by_category = { AUTHENTICATION = "5m", utility = "40d" }\n[fallback.sms]\nurl = "https://sms.example/send"\n`;
    parseConfigText(MINIMAL + family, { env: {}, warnings: spelled });
    expect(spelled.filter((w) => w.reason.includes("time to live")).map((w) => w.key)).toEqual(["fallback.stale_after_by_category.authentication"]);
    expect(spelled[0]!.reason).toContain("for authentication_international (Meta's TTL 10m), authentication (Meta's TTL 10m)");
    const quiet: ConfigProblem[] = [];
    parseConfigText(MINIMAL + `[fallback]\nenabled = false\nstale_after = "1m"\n`, { env: {}, warnings: quiet });
    expect(quiet).toEqual([]);
  });

  test("a secrets file with nothing but comments names the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "wa-cfg-"));
    writeFileSync(join(dir, "secrets"), "# rotated 2026-11\n\n   # nothing yet\n");
    writeFileSync(join(dir, "empty"), "\n");
    const text = `[whatsapp]\nverify_token_file = "${dir}/empty"\napp_secrets_file = "${dir}/secrets"\n[admin]\ntoken = "0123456789abcdef"\n`;
    expect(problems(text)).toEqual([
      `whatsapp.verify_token_file: ${dir}/empty holds no secret (only blank lines)`,
      `whatsapp.app_secrets_file: ${dir}/secrets holds no secret (only blank lines and # comments)`,
    ]);
  });

  test("hooks take secret_file / secrets_file like the other secrets", () => {
    const dir = mkdtempSync(join(tmpdir(), "wa-cfg-"));
    writeFileSync(join(dir, "hook"), `${WHSEC}\n`);
    writeFileSync(join(dir, "hooks"), `# old\n${WHSEC}\n${WHSEC.replace("Bw", "CA")}\n`);
    const text =
      MINIMAL + `[[hooks]]\nname = "a"\nurl = "http://x"\nsecret_file = "${dir}/hook"\n[[hooks]]\nname = "b"\nurl = "http://y"\nsecrets_file = "${dir}/hooks"\n`;
    const config = parseConfigText(text, { env: {} });
    expect(config.hooks[0]!.secret).toBe(WHSEC);
    expect(config.hooks[1]!.secrets).toHaveLength(2);
    expect(problems(text.replace(`${dir}/hook"`, `${dir}/nope"`))).toEqual([`hooks[0].secret_file: cannot read ${dir}/nope: ENOENT`]);
  });

  test("check masks credentials written into URLs", () => {
    const config = parseConfigText(MINIMAL + `[[hooks]]\nname = "a"\nurl = "https://user:hunter2@hooks.example.com/wa"\nsecret = "${WHSEC}"\n`, { env: {} });
    const masked = maskSecrets(config) as Config;
    expect(masked.hooks[0]!.url).toBe("https://user:********@hooks.example.com/wa");
    expect(JSON.stringify(masked)).not.toContain("hunter2");
    expect(JSON.stringify(masked)).not.toContain(WHSEC);
  });

  test("check masks an SMS body's constant fields (a form's api_key, api_secret) and shows the fields that carry the message", () => {
    const sms = `[fallback]\nenabled = true\ncategories = ["authentication"]\nstale_after = "11m"\n[fallback.sms]\nurl = "https://rest.nexmo.com/sms/json"\ncontent_type = "form"\nbody = { api_key = "\${VONAGE_KEY}", api_secret = "\${VONAGE_SECRET}", to = "{{to}}", text = "{{text}}" }\n`;
    const config = parseConfigText(MINIMAL + sms, { env: { VONAGE_KEY: "abcd1234", VONAGE_SECRET: "VONAGESECRETxyz" } });
    expect((maskSecrets(config) as Config).fallback.sms!.body).toEqual({ api_key: "********", api_secret: "********", to: "{{to}}", text: "{{text}}" });
  });

  test("check masks tokens in a URL's query and in long path segments (Slack's webhook URLs); the host and a short path stay", () => {
    expect(maskUrlSecrets("http://u:p@h.example:8080/h?token=HOOKQUERY666&x")).toBe("http://u:********@h.example:8080/h?token=********&x");
    expect(maskUrlSecrets("https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX")).toBe("https://hooks.slack.com/services/T00000000/B00000000/********");
    expect(maskUrlSecrets("https://sms.example.com/v1/send?apikey=QUERYKEY777#frag")).toBe("https://sms.example.com/v1/send?apikey=********");
    expect(maskUrlSecrets("http://127.0.0.1:3000/whatsapp-events")).toBe("http://127.0.0.1:3000/whatsapp-events");
    expect(maskUrlSecrets("data/wa.db")).toBe("data/wa.db");
    // A PostgreSQL URL: the password masked, the role shown (with no password, there is nothing to mask).
    expect(maskUrlSecrets("postgres://wa:hunter2@db.internal:5432/wa")).toBe("postgres://wa:********@db.internal:5432/wa");
    expect(maskUrlSecrets("postgres://postgres@127.0.0.1:5432/wa")).toBe("postgres://postgres@127.0.0.1:5432/wa");
    expect(maskUrlSecrets("https://TOKEN123@h.example/x")).toBe("https://********@h.example/x");
    const config = parseConfigText(MINIMAL + `[alerts]\nurl = "https://hooks.slack.com/services/T0/B0/SECRETSECRETSECRET123"\nformat = "slack"\n`, { env: {} });
    expect(JSON.stringify(maskSecrets(config))).not.toContain("SECRETSECRETSECRET123");
  });
});

describe("operator view of the config", () => {
  const serviceConfig =
    `[whatsapp]\nverify_token = "\${WA_VERIFY_TOKEN}"\napp_secrets_file = "/run/credentials/wa-webhookd.service/app_secrets"\n` +
    `[admin]\ntoken_file = "/run/credentials/wa-webhookd.service/admin_token"\n` +
    `[[hooks]]\nname = "app"\nurl = "http://127.0.0.1:9000/x"\nsecret = "\${APP_HOOK_SECRET}"\nevents = ["message.*"]\n`;

  test("the daemon needs every secret", () => {
    expect(problems(serviceConfig)).toContain("hooks[0].secret: environment variable APP_HOOK_SECRET is not set");
  });

  test("operator commands read the same file without any secret resolving", () => {
    const config = parseConfigText(serviceConfig, { env: {}, purpose: "operator" });
    expect(config.hooks).toEqual([
      { name: "app", url: "http://127.0.0.1:9000/x", events: ["message.*"], phone_number_ids: [], timeout: "15s", concurrency: 8, retry_schedule: ["5s", "5m", "30m", "2h", "5h", "10h", "10h"] },
    ]);
    expect(JSON.stringify(config)).not.toContain("credentials");
  });

  test("operator commands still refuse what is really wrong", () => {
    expect(problems(serviceConfig + 'nmae = "x"\n', "operator")).toEqual(['hooks[0].nmae: unknown key; did you mean "name"?']);
  });
});

describe("a config file readable by others", () => {
  const write = (text: string, mode: number) => {
    const path = join(mkdtempSync(join(tmpdir(), "wa-cfg-")), "config.toml");
    writeFileSync(path, text);
    chmodSync(path, mode);
    return path;
  };
  const warningsOf = (path: string) => {
    const warnings: ConfigProblem[] = [];
    loadConfigFile(path, { env: { VT: "x", S: META_SECRET, T: "0123456789abcdef" }, warnings });
    return warnings.map((w) => `${w.key}: ${w.reason}`);
  };

  test("with secrets inline: a warning saying what to do", () => {
    expect(warningsOf(write(MINIMAL, 0o644))).toEqual([
      "--config: the file is readable by group or others (mode 0644) and holds secrets inline: chmod 600 it, or use ${ENV} or *_file for the secrets",
    ]);
  });

  test("mode 600, or only ${ENV} references: no warning", () => {
    expect(warningsOf(write(MINIMAL, 0o600))).toEqual([]);
    const refs = `[whatsapp]\nverify_token = "\${VT}"\napp_secrets = ["\${S}"]\n[admin]\ntoken = "\${T}"\n`;
    expect(warningsOf(write(refs, 0o644))).toEqual([]);
  });
});

test("a missing variable does not hide a typo elsewhere: every problem at once", () => {
  const text = `[server]\nlsten = "x"\n[whatsapp]\nverify_token = "\${WA_VERIFY_TOKEN}"\napp_secrets = ["s"]\n[admin]\ntoken = "0123456789abcdef"\n`;
  expect(problems(text)).toEqual(["whatsapp.verify_token: environment variable WA_VERIFY_TOKEN is not set", 'server.lsten: unknown key; did you mean "listen"?']);
});
