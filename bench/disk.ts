/**
 * Disk per event, for sizing (docs/deploy.md): the compiled binary with one hook takes
 * N inbound text messages (~1.3 KB webhooks) and N delivery statuses, processes and
 * delivers them all, stops (the WAL folded in), and the database file is measured:
 * bytes per event, and what a million events take before retention deletes them.
 *   make bench-disk   (N = 20000 each; BENCH_N to change)
 */
import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { runLoad } from "./loadgen";
import { signedRequest, textMessageBody } from "./payloads";
import { spawnListening } from "./spawn";

const N = Number(process.env.BENCH_N ?? 20_000);
const SECRET = "bench-app-secret";
const dir = mkdtempSync(join(tmpdir(), "wa-disk-"));
const sinkProc = await spawnListening(["node_modules/.bin/bun", "bench/sink.ts"], process.cwd());
const config = join(dir, "config.toml");
writeFileSync(
  config,
  `[server]\nlisten = "127.0.0.1:0"\n[storage]\npath = "${join(dir, "wa.db")}"\n[whatsapp]\nverify_token = "v"\napp_secrets = ["${SECRET}"]\n[admin]\ntoken = "bench-admin-token-0123456789"\n` +
    `[[hooks]]\nname = "app"\nurl = "http://127.0.0.1:${sinkProc.port}/hook"\nsecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"\n`,
  { mode: 0o600 },
);
const daemon = await spawnListening(["dist/wa-webhookd", "--config", config], process.cwd());

const status = (n: number) =>
  JSON.stringify({
    object: "whatsapp_business_account",
    entry: [{ id: "102290129340398", changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata: { display_phone_number: "15550783881", phone_number_id: "106540352242922" }, statuses: [{ id: `wamid.OUT${Math.floor(n / 3)}`, status: ["sent", "delivered", "read"][n % 3], timestamp: String(1_795_000_000 + n), recipient_id: "16505551234", ...(n % 3 === 0 ? { conversation: { id: `c${n}`, origin: { type: "utility" } }, pricing: { billable: true, pricing_model: "PMP", category: "utility", type: "regular" } } : {}) }] } }] }],
  });
const requests = [...Array.from({ length: N }, (_, i) => textMessageBody(i)), ...Array.from({ length: N }, (_, i) => status(i))].map((b) => signedRequest("127.0.0.1", "/webhook", b, SECRET));
const load = await runLoad({ host: "127.0.0.1", port: daemon.port, connections: 20, durationMs: 600_000, requests });
// Until every event reached the hook.
for (;;) {
  const { count } = (await (await fetch(`http://127.0.0.1:${sinkProc.port}/count`)).json()) as { count: number };
  if (count >= 2 * N) break;
  await Bun.sleep(250);
}
await daemon.stop();
await sinkProc.stop();
const bytes = statSync(join(dir, "wa.db")).size;
const db = new Database(join(dir, "wa.db"), { readonly: true });
const events = db.query<{ n: number }, []>("SELECT count(*) n FROM events").get()!.n;
db.close();
const perEvent = bytes / events;
console.log(JSON.stringify({ posts: load.ok200, events, database_bytes: bytes, bytes_per_event: Math.round(perEvent), gib_per_million_events: +((perEvent * 1e6) / 2 ** 30).toFixed(2) }));
