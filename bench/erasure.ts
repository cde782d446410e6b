/**
 * What erasing one person costs on a big file (DELETE /v1/contacts/{wa_id}): the
 * webhooks of BENCH_N people (~1.3 KB text messages, one event each) are stored and
 * processed in a fresh SQLite file, 10 of them from the person erased; then the
 * erasure runs as the writer thread runs it. Prints the file's size, the walk of every
 * body and envelope for the number (alone, as SQL), and the whole erasure (the walk
 * gives way between steps, so it takes about twice the walk; ingestion meanwhile is
 * not held up by more than one step).
 *   node_modules/.bin/bun bench/erasure.ts   (BENCH_N to change the size, default 200,000)
 */
import { rmSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { eraseContact } from "../src/admin/contacts";
import { contactStore } from "../src/store/contact-store";
import { storeWebhooks } from "../test/support/inbox";
import { pipeline } from "../test/support/pipeline";
import { textMessageBody } from "./payloads";

const N = Number(process.env.BENCH_N ?? 200_000);
const PERSON = "19995550123";
const p = pipeline();
for (let start = 0; start < N; start += 500) {
  const records = Array.from({ length: Math.min(500, N - start) }, (_, k) => {
    const n = start + k;
    const from = n % (N / 10) === 0 ? PERSON : `1650${String(n).padStart(7, "0")}`;
    const body = textMessageBody(n).replaceAll("16505551234", from);
    return { body: new TextEncoder().encode(body), signature: "sha256=" + "0".repeat(64), userAgent: null, remoteAddr: null, forwardedFor: null, receivedAt: p.clock.now() };
  });
  storeWebhooks(p.db, records);
}
while ((await p.processor.runOnce()).jobs > 0);
p.db.run("PRAGMA wal_checkpoint(TRUNCATE)");
const mib = statSync(p.path).size / 1048576;

const store = contactStore(p.db);
let started = performance.now();
const bodies = store.walk.bodies.find(0, store.walk.bodies.end(), PERSON).length;
const envelopes = store.walk.envelopes.find(0, store.walk.envelopes.end(), PERSON).length;
const walkMs = performance.now() - started;
started = performance.now();
const answer = await eraseContact(p.db, PERSON, p.clock.now());
const eraseMs = performance.now() - started;
p.db.close();
rmSync(dirname(p.path), { recursive: true });
console.log(JSON.stringify({ webhooks: N, file_mib: Math.round(mib), walk: { bodies, envelopes, ms: Math.round(walkMs), mib_per_s: Math.round((mib / walkMs) * 1000) }, erasure_ms: Math.round(eraseMs), answer: answer.body }));
