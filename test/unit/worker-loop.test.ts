/**
 * The worker loops (worker/loop.ts) on a real SQLite file and a real hook: an idle
 * processing loop runs when webhooks are indexed (woken, not at its next poll), and a
 * pass that stored events wakes the dispatcher. Both polls are set to a minute here,
 * so an event delivered within seconds was carried by the wake-ups alone.
 */
import { afterEach, expect, test } from "bun:test";
import { systemClock } from "../../src/util/clock";
import { Wakeup } from "../../src/util/wakeup";
import { runWorkerLoops } from "../../src/worker/loop";
import { TrafficMeter } from "../../src/worker/traffic";
import { fixture, hook, pipeline, quiet } from "../support/pipeline";
import { Sink } from "../support/sink";
import { waitFor } from "../support/daemon";

const sinks: Sink[] = [];
afterEach(() => sinks.splice(0).forEach((s) => s.stop()));

test("an idle loop processes a webhook when woken, and the pass that stored its event wakes the dispatcher", async () => {
  const sink = new Sink().start();
  sinks.push(sink);
  const p = pipeline([hook({ name: "app", url: sink.url })], { clock: systemClock as never });
  const inbox = new Wakeup();
  const loops = runWorkerLoops({ processor: p.processor, dispatcher: p.dispatcher, recovered: null, wakeups: { inbox, idleMs: 60_000 } }, 100, systemClock, quiet, () => false, new TrafficMeter());
  try {
    await Bun.sleep(100); // both loops are idle now, each waiting out a one-minute poll
    p.post(fixture("message_text").payload);
    inbox.wake();
    await waitFor(() => sink.received.length === 1, 5_000);
    expect(JSON.parse(sink.received[0]!.body).type).toBe("message.received");
  } finally {
    await loops.stop();
  }
});
