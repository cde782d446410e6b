/**
 * The storage engine in the config: each engine's own keys refused with the other, each
 * problem naming its key; the PostgreSQL URL from the file, the environment or a
 * credential file, its password masked.
 */
import { expect, test } from "bun:test";
import { maskSecrets, parseConfigText } from "../../src/config/load";
import { configProblems } from "../support/config";

const BASE = `[whatsapp]\nverify_token = "vt"\napp_secrets = ["s1"]\n[admin]\ntoken = "0123456789abcdef"\n`;

test("postgres with its URL: parsed; instance named; the URL's password masked by check", () => {
  const config = parseConfigText(`${BASE}[server]\ninstance = "wa-1"\n[storage]\nengine = "postgres"\nurl = "postgres://wa:s3cret@db.internal:5432/wa?sslmode=require&password=again"\npool = 8\n`, { env: {} });
  expect(config.storage).toMatchObject({ engine: "postgres", url: "postgres://wa:s3cret@db.internal:5432/wa?sslmode=require&password=again", pool: 8 });
  expect(config.server.instance).toBe("wa-1");
  const shown = JSON.stringify(maskSecrets(config));
  expect(shown).not.toContain("s3cret");
  expect(shown).not.toContain("again");
  expect(shown).toContain("postgres://wa:********@db.internal:5432/wa?sslmode=require&password=********");
});

test("the URL from the environment or from a credential file", () => {
  const fromEnv = parseConfigText(`${BASE}[storage]\nengine = "postgres"\nurl = "\${DATABASE_URL}"\n`, { env: { DATABASE_URL: "postgres://wa@db/wa" } });
  expect(fromEnv.storage.url).toBe("postgres://wa@db/wa");
  const fromFile = parseConfigText(`${BASE}[storage]\nengine = "postgres"\nurl_file = "/run/credentials/wa.service/db"\n`, { env: {}, readFile: () => "postgres://wa:pw@db/wa\n" });
  expect(fromFile.storage.url).toBe("postgres://wa:pw@db/wa");
});

test("each engine's keys are refused with the other, naming the key", () => {
  expect(configProblems(`${BASE}[storage]\nengine = "postgres"\nurl = "postgres://db/wa"\npath = "data/wa.db"\nsynchronous = "normal"\n`)).toEqual([
    'storage.path: is a SQLite setting: not used with storage.engine = "postgres"',
    'storage.synchronous: is a SQLite setting: not used with storage.engine = "postgres"',
  ]);
  expect(configProblems(`${BASE}[storage]\nurl = "postgres://db/wa"\npool = 4\n`)).toEqual([
    'storage.url: is a PostgreSQL setting: not used with storage.engine = "sqlite" (set storage.engine = "postgres" to use it)',
    'storage.pool: is a PostgreSQL setting: not used with storage.engine = "sqlite" (set storage.engine = "postgres" to use it)',
  ]);
});

test("postgres without a URL, with a URL that is not postgres://, with an unknown engine, a bad instance name", () => {
  expect(configProblems(`${BASE}[storage]\nengine = "postgres"\n`)).toEqual([
    'storage.url: is required with storage.engine = "postgres": postgres://user@host:5432/db, or storage.url_file, or "${DATABASE_URL}"',
  ]);
  expect(configProblems(`${BASE}[storage]\nengine = "postgres"\nurl = "mysql://db/wa"\n`)).toEqual(['storage.url: expected a postgres:// URL, e.g. "postgres://wa@db.internal:5432/wa"']);
  // What the client would throw a stack trace on is a config error naming the key, never showing the password.
  const said = (url: string) => configProblems(`${BASE}[storage]\nengine = "postgres"\nurl = "${url}"\n`);
  expect(said("postgres://wa@127.0.0.1:99999/wa")).toEqual(["storage.url: not a valid URL (a port above 65535, a space, a character the URL must escape?)"]);
  expect(said("postgres://wa:s3cr%zzet@127.0.0.1:5432/wa")).toEqual(["storage.url: its user or password holds a % not followed by two hex digits: write % as %25"]);
  expect(said("postgres://wa@127.0.0.1:5432/wa?sslmode=bogus")).toEqual(["storage.url: sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full"]);
  expect(JSON.stringify(said("postgres://wa:s3cr%zzet@127.0.0.1:5432/wa"))).not.toContain("s3cr");
  const warnings: { key: string; reason: string }[] = [];
  parseConfigText(`${BASE}[storage]\nengine = "postgres"\nurl = "postgres://wa:pw@127.0.0.1:5432"\n`, { env: {}, warnings });
  expect(warnings.filter((w) => w.key === "storage.url")).toEqual([
    { key: "storage.url", reason: 'names no database: PostgreSQL uses the one named after the user ("wa"), where the schema would be created; add /<database> to the URL' },
  ]);
  expect(configProblems(`${BASE}[storage]\nengine = "mysql"\n`)[0]).toStartWith("storage.engine: ");
  expect(configProblems(`${BASE}[server]\ninstance = "wa 1"\n`)).toEqual(["server.instance: expected 1 to 63 letters, digits, '.', '_', ':' or '-'"]);
});

test("SMS fallback and sent alerts run on postgres too: parsed, nothing refused", () => {
  const config = parseConfigText(`${BASE}[storage]\nengine = "postgres"\nurl = "postgres://db/wa"\n[fallback]\nenabled = true\n[fallback.sms]\nurl = "https://sms.example/send"\n[alerts]\nurl = "https://hooks.example/alerts"\n`, { env: {} });
  expect(config.fallback.enabled).toBe(true);
  expect(config.alerts.url).toBe("https://hooks.example/alerts");
});

test("an unreadable url_file is one problem, named by its key, not also \"storage.url is required\"", () => {
  expect(
    configProblems(`${BASE}[storage]\nengine = "postgres"\nurl_file = "/run/credentials/wa.service/database-url"\n`),
  ).toEqual(["storage.url_file: cannot read /run/credentials/wa.service/database-url: ENOENT (systemd makes that directory only while wa.service runs; before that, check with --unit /etc/systemd/system/wa.service)"]);
});
