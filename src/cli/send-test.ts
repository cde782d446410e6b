/**
 * `wa-webhookd send-test --config F --type T [--to N] [--count N]`: builds realistic
 * webhooks (whatsapp/samples.ts), signs them with the first app secret, and POSTs them
 * to the running daemon, like a provider's "trigger" command. `--list` shows the types.
 */
import type { Config } from "../config/schema";
import { parseListen } from "../config/schema";
import { hubSignature } from "../ingest/signature";
import { ulid } from "../util/ids";
import { SAMPLES } from "../whatsapp/samples";
import { OperatorError, UsageError } from "./operator";

export function listSamples(): number {
  const width = Math.max(...Object.keys(SAMPLES).map((k) => k.length));
  process.stdout.write(Object.entries(SAMPLES).map(([k, s]) => `  ${k.padEnd(width)}  ${s.about}`).join("\n") + "\n");
  return 0;
}

export async function runSendTest(config: Config, type: string, to: string, count: number): Promise<number> {
  const sample = SAMPLES[type];
  if (!sample) throw new UsageError(`--type: no sample "${type}"; the types are ${Object.keys(SAMPLES).join(", ")} (--list says what each is)`);
  const { hostname, port } = parseListen(config.server.listen)!;
  const host = hostname === "0.0.0.0" || hostname === "::" ? "127.0.0.1" : hostname.includes(":") ? `[${hostname}]` : hostname;
  const url = `http://${host}:${port}${config.server.webhook_path}`;
  let failed = 0;
  for (let i = 0; i < count; i++) {
    const wamid = `wamid.TEST${ulid(Date.now())}`;
    const body = JSON.stringify(sample.build({ wamid, to, now: Math.floor(Date.now() / 1000), wabaId: "102290129340398", phoneNumberId: "106540352242922", displayNumber: "15550783881" }));
    let answer: string;
    try {
      const res = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json", "x-hub-signature-256": hubSignature(new TextEncoder().encode(body), config.whatsapp.app_secrets[0]!), "user-agent": "wa-webhookd send-test" } });
      answer = `${res.status} ${await res.text()}`;
      if (res.status !== 200) failed++;
    } catch (err) {
      throw new OperatorError(`send-test: cannot reach the daemon at ${url}: ${(err as Error).message} (is it running with this config?)`);
    }
    process.stdout.write(`${type} ${wamid} → ${answer}\n`);
  }
  return failed === 0 ? 0 : 1;
}
