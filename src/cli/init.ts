/**
 * `wa-webhookd init [--dir D]`: a commented config.toml (mode 0600) with a freshly
 * generated verify token, admin token and hook secret, and the next steps. The app
 * secret is Meta's to give: the config reads it from $WA_APP_SECRET.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { OperatorError } from "./operator";

const random = (bytes: number) => crypto.getRandomValues(new Uint8Array(bytes));
const hex = (bytes: number) => Buffer.from(random(bytes)).toString("hex");

export function runInit(dir: string): number {
  const target = resolve(dir);
  const path = join(target, "config.toml");
  if (existsSync(path)) throw new OperatorError(`init: ${path} exists; keeping it (give another --dir)`);
  const verifyToken = hex(16);
  const adminToken = hex(24);
  const hookSecret = `whsec_${Buffer.from(random(32)).toString("base64")}`;
  try {
    mkdirSync(target, { recursive: true });
    writeFileSync(path, configText(verifyToken, adminToken, hookSecret), { mode: 0o600, flag: "wx" });
  } catch (err) {
    throw new OperatorError(`init: cannot write ${path}: ${(err as Error).message}`);
  }
  process.stdout.write(
    `wrote ${path} (mode 0600: it holds secrets)

Next:
  1. Your Meta app's secret (App settings → Basic → App secret):
       export WA_APP_SECRET='…'
  2. Start the daemon:
       wa-webhookd --config ${path}
     and try it without Meta:
       wa-webhookd send-test --config ${path} --type text
     (its event is forwarded to the hook URL in the config, http://127.0.0.1:3000/…;
     until your application listens there, the log says each attempt failed: step 4)
  3. Put it behind TLS (docs/deploy.md: systemd unit and Caddyfile), then in Meta's
     App Dashboard → WhatsApp → Configuration → Webhook:
       Callback URL:  https://<your domain>/webhook
       Verify token:  ${verifyToken}
     and subscribe the fields (messages, message_template_status_update, …).
  4. Your application receives events at the hook URL in the config (edit it); it
     verifies them (Standard Webhooks) with: ${hookSecret}
  5. The admin API and the API reference (http://127.0.0.1:8080/docs) take:
       Authorization: Bearer ${adminToken}
`,
  );
  return 0;
}

function configText(verifyToken: string, adminToken: string, hookSecret: string): string {
  return `# wa-webhookd config, written by \`wa-webhookd init\`. Every key: config.example.toml.
# Check it with: wa-webhookd check --config <this file>

[server]
# Loopback: put Caddy (TLS) in front; docs/deploy.md.
listen = "127.0.0.1:8080"
webhook_path = "/webhook"

[storage]
# Relative paths are relative to this file's directory.
path = "data/wa-webhookd.db"

[whatsapp]
# What you type into Meta's App Dashboard beside the callback URL.
verify_token = "${verifyToken}"
# Your Meta app's secret, from the environment (several: one per app, or two while rotating).
app_secrets = ["\${WA_APP_SECRET}"]

[admin]
# Bearer token of the admin API (/v1) and the API reference UI (/docs).
token = "${adminToken}"

[log]
level = "info"

# Where events go: your application's endpoint. Each POST is signed (Standard Webhooks)
# with this secret; retried on failure, then dead-lettered (replay with the admin API).
[[hooks]]
name = "app"
url = "http://127.0.0.1:3000/whatsapp-events"
secret = "${hookSecret}"
events = ["*"]
`;
}
