/**
 * The in-process half of bench/processing.ts: this tree's processor and dispatcher on a
 * real SQLite file opened with the writer thread's settings, the checkpoint thread
 * running beside them as in the daemon. For profiling (`bun --cpu-prof`), not for
 * comparing builds: only this tree's code can run here.
 */
import { WRITER_CACHE_KIB } from "../src/config/defaults";
import { startCheckpointer } from "../src/store/checkpointer";
import { openDatabase } from "../src/store/db";
import type { ClaimedDelivery } from "../src/domain/delivery";
import { sqliteDispatch } from "../src/store/dispatch-engine";
import { hook, pipeline, quiet } from "../test/support/pipeline";
import { mixedBody } from "./payloads";

export async function inProcess(events: number, rounds: number): Promise<{ perEvent: number[]; perDelivery: number[] }> {
  const perEvent: number[] = [];
  const perDelivery: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const p = pipeline([hook({ name: "app", url: "http://127.0.0.1:9/hook" })], {
      open: (path) => openDatabase(path, { synchronous: "full", busyTimeoutMs: 5_000, autoCheckpoint: false, cacheKiB: WRITER_CACHE_KIB }),
    });
    const checkpointer = startCheckpointer(p.path, "full", quiet);
    for (let i = 0; i < events; i += 64) p.postMany(Array.from({ length: Math.min(64, events - i) }, (_, k) => mixedBody(i + k)));
    const started = performance.now();
    while ((await p.processor.runOnce(Number(process.env.BENCH_BATCH ?? 200))).jobs > 0);
    perEvent.push(((performance.now() - started) * 1000) / events);
    if (p.count("SELECT count(*) n FROM events") !== events) throw new Error("not every webhook became an event");

    const engine = sqliteDispatch(p.db);
    const at = p.clock.now();
    const bookStarted = performance.now();
    // As the dispatcher does: one turn records a round's outcomes and claims the next round.
    let round: ClaimedDelivery[] = [];
    do {
      const outcomes = round.map((d) => ({ id: d.id, hook: "app", eventId: d.event_id, token: "bench", outcome: { state: "done" as const }, last: { status: 200, error: null, response: null }, at }));
      round = (await engine.turn(outcomes, [{ hook: "app", token: "bench", leaseUntil: at + 60_000, limit: 32 }], at)).claimed[0]!;
    } while (round.length > 0);
    perDelivery.push(((performance.now() - bookStarted) * 1000) / events);
    if (p.count("SELECT count(*) n FROM deliveries WHERE state = 'done'") !== events) throw new Error("not every delivery was recorded");
    await checkpointer.stop();
    p.db.close();
  }
  return { perEvent, perDelivery };
}

