import { DEV_CONFIG_ORIGIN, loadConfig } from "../config/source";
import { hubSignature } from "../ingest/signature";

/**
 * `wa-webhookd sign`: prints the X-Hub-Signature-256 value Meta would send for the
 * body on stdin, for testing by hand with curl. The body is hashed byte for byte.
 */
export async function runSign(configPath: string | null, secret: string | null): Promise<number> {
  if (secret === null && configPath === null) {
    process.stderr.write(`wa-webhookd: signing with the ${DEV_CONFIG_ORIGIN}'s app secret (give --config or --secret for another)\n`);
  }
  const key = secret ?? loadConfig(configPath).config.whatsapp.app_secrets[0]!;
  const body = new Uint8Array(await Bun.stdin.arrayBuffer());
  process.stdout.write(hubSignature(body, key) + "\n");
  return 0;
}
