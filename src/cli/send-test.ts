/**
 * `wa-webhookd send-test --config F --type T [--to N] [--count N] [--listen H:P | --url U]`:
 * builds realistic webhooks (whatsapp/samples.ts), signs them with the first app secret,
 * and POSTs them to the running daemon (at server.listen unless aimed elsewhere), like a
 * provider's "trigger" command. `--list` shows the types.
 */
import type { Config } from "../config/schema";
import type { SendTarget } from "./args";
import { parseListen } from "../config/schema";
import { hubSignature } from "../ingest/signature";
import { ulid } from "../util/ids";
import { SAMPLES } from "../whatsapp/samples";
import { closest } from "../config/suggest";
import { OperatorError, UsageError } from "./operator";

const didYouMean = (word: string, known: string[]) => {
  const meant = closest(word, known);
  return meant ? ` (did you mean "${meant}"?)` : "";
};

export function listSamples(): number {
  const width = Math.max(...Object.keys(SAMPLES).map((k) => k.length));
  process.stdout.write(Object.entries(SAMPLES).map(([k, s]) => `  ${k.padEnd(width)}  ${s.about}`).join("\n") + "\n");
  return 0;
}

/** The webhook URL to post to: --url as given, else --listen or server.listen with the config's webhook_path. */
export function sendTestUrl(server: Config["server"], target: SendTarget): string {
  if (target !== null && "url" in target) return target.url;
  const { hostname, port } = parseListen(target?.listen ?? server.listen)!;
  const host = hostname === "0.0.0.0" || hostname === "::" ? "127.0.0.1" : hostname.includes(":") ? `[${hostname}]` : hostname;
  return `http://${host}:${port}${server.webhook_path}`;
}

export async function runSendTest(config: Config, type: string, to: string, count: number, target: SendTarget): Promise<number> {
  const sample = SAMPLES[type];
  if (!sample) throw new UsageError(`--type: no sample "${type}"${didYouMean(type, Object.keys(SAMPLES))}; the types are ${Object.keys(SAMPLES).join(", ")} (--list says what each is)`);
  const url = sendTestUrl(config.server, target);
  const aim = target === null ? "server.listen" : "url" in target ? "--url" : "--listen";
  process.stdout.write(`send-test: POST ${url} (from ${aim})\n`);
  let failed = 0;
  let refused = false;
  for (let i = 0; i < count; i++) {
    const wamid = `wamid.TEST${ulid(Date.now())}`;
    const body = JSON.stringify(sample.build({ wamid, to, now: Math.floor(Date.now() / 1000), wabaId: "102290129340398", phoneNumberId: "106540352242922", displayNumber: "15550783881" }));
    let answer: string;
    try {
      const res = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json", "x-hub-signature-256": hubSignature(new TextEncoder().encode(body), config.whatsapp.app_secrets[0]!), "user-agent": "wa-webhookd send-test" } });
      answer = `${res.status} ${await res.text()}`;
      if (res.status !== 200) failed++;
      refused ||= res.status === 401;
    } catch (err) {
      throw new OperatorError(`send-test: cannot reach the daemon at ${url}: ${(err as Error).message} (is it running there? aim with --listen HOST:PORT or --url URL)`);
    }
    process.stdout.write(`${type} ${wamid} → ${answer}\n`);
  }
  if (refused) {
    process.stderr.write(`wa-webhookd: send-test: ${url} refused the signature: is the daemon there running with this config's app secret? Aim with --listen HOST:PORT or --url URL\n`);
  }
  return failed === 0 ? 0 : 1;
}
