/** `check --unit`: the credentials a systemd unit loads, and where check reads each one before the unit runs. */
import { expect, test } from "bun:test";
import { credentialSources, parseUnitCredentials } from "../../src/config/unit-credentials";

const UNIT = `[Unit]
Description=x
LoadCredential=not_service:/ignored
[Service]
# LoadCredential=commented:/out
LoadCredential=verify_token:/etc/wa-webhookd/credentials/verify_token
LoadCredential=admin_token
LoadCredential=hooks:/etc/wa-webhookd/hook-secrets
LoadCredential=relayed:upstream_name
LoadCredential = \\
  app_secrets:/etc/wa-webhookd/credentials/app_secrets
[Install]
LoadCredential=install:/ignored
`;

test("the [Service] section's LoadCredential= lines, with a line continued (systemd joins it with a space); the unit file's name gives the credentials directory", () => {
  const unit = parseUnitCredentials("/etc/systemd/system/wa-webhookd.service", UNIT);
  expect(unit.directory).toBe("/run/credentials/wa-webhookd.service");
  expect(Object.fromEntries(unit.sources)).toEqual({
    verify_token: "/etc/wa-webhookd/credentials/verify_token",
    admin_token: null,
    hooks: "/etc/wa-webhookd/hook-secrets",
    relayed: "upstream_name",
    app_secrets: "/etc/wa-webhookd/credentials/app_secrets",
  });
});

test("an empty LoadCredential= clears the ones before it, as in systemd", () => {
  const unit = parseUnitCredentials("a.service", "[Service]\nLoadCredential=one:/x\nLoadCredential=\nLoadCredential=two:/y\n");
  expect([...unit.sources.keys()]).toEqual(["two"]);
});

test("each path in the credentials directory reads from its source: a file, the credential store, a directory's file; other paths as they are", () => {
  const unit = parseUnitCredentials("/etc/systemd/system/wa-webhookd.service", UNIT);
  const at = (name: string) => credentialSources(unit, `/run/credentials/wa-webhookd.service/${name}`);
  expect(at("verify_token")).toEqual(["/etc/wa-webhookd/credentials/verify_token"]);
  expect(at("app_secrets")).toEqual(["/etc/wa-webhookd/credentials/app_secrets"]);
  expect(at("admin_token")).toEqual(["/etc/credstore/admin_token", "/run/credstore/admin_token", "/usr/lib/credstore/admin_token"]);
  expect(at("hooks_app")).toEqual(["/etc/wa-webhookd/hook-secrets/app"]);
  expect(credentialSources(unit, "/etc/wa-webhookd/secret")).toBeNull();
  expect(credentialSources(unit, "/run/credentials/other.service/verify_token")).toBeNull();
});

test("a credential the unit does not load, or takes from the service manager, is an error that says so", () => {
  const unit = parseUnitCredentials("/etc/systemd/system/wa-webhookd.service", UNIT);
  expect(() => credentialSources(unit, "/run/credentials/wa-webhookd.service/hook_secret")).toThrow(
    'wa-webhookd.service loads no credential "hook_secret": add LoadCredential=hook_secret:/etc/wa-webhookd/credentials/hook_secret to it',
  );
  expect(() => credentialSources(unit, "/run/credentials/wa-webhookd.service/relayed")).toThrow("LoadCredential=relayed:upstream_name takes it from the service manager's own credentials, which check cannot see");
});
