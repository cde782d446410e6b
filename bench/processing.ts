/**
 * Processing alone, in process: 20,000 webhooks of the pipeline bench's mix are put in
 * the inbox of a fresh SQLite file, then the worker's processor drains them (normalize,
 * dedup, store events, state, delivery rows, counts). Prints µs per event for each of
 * 3 runs; then the dispatcher's bookkeeping for those deliveries without HTTP (claim
 * and record the outcome, 32 per transaction as under load), µs per delivery. To compare two builds, run it in each checkout in the same session (a
 * worktree of the other commit with this file copied in): the machine is noisy.
 *   node_modules/.bin/bun bench/processing.ts   (BENCH_EVENTS to change the size)
 */
import { deliveryStore } from "../src/store/delivery-store";
import { hook, pipeline } from "../test/support/pipeline";
import { mixedBody } from "./payloads";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const results: number[] = [];
const bookkeeping: number[] = [];
for (let run = 0; run < 3; run++) {
  const p = pipeline([hook({ name: "app", url: "http://127.0.0.1:9/hook" })]);
  for (let i = 0; i < EVENTS; i++) p.post(mixedBody(i));
  const started = performance.now();
  while (p.processor.runOnce().jobs > 0);
  results.push(((performance.now() - started) * 1000) / EVENTS);
  if (p.count("SELECT count(*) n FROM events") !== EVENTS) throw new Error("not every webhook became an event");
  const deliveries = deliveryStore(p.db);
  const at = p.clock.now();
  const done = { state: "done" } as const;
  const last = { status: 200, error: null, response: null };
  const bookStarted = performance.now();
  for (let claimed = 1; claimed > 0; ) {
    claimed = p.db.transaction(() => {
      const batch = deliveries.claim("app", "bench", at + 60_000, at, 32);
      for (const d of batch) deliveries.finish(d.id, "bench", done, last, at);
      return batch.length;
    }).immediate();
  }
  bookkeeping.push(((performance.now() - bookStarted) * 1000) / EVENTS);
  if (p.count("SELECT count(*) n FROM deliveries WHERE state = 'done'") !== EVENTS) throw new Error("not every delivery was recorded");
  p.db.close();
}
console.log(JSON.stringify({ events: EVENTS, us_per_event: results.map((r) => Math.round(r)), bookkeeping_us_per_delivery: bookkeeping.map((r) => Math.round(r)) }));
