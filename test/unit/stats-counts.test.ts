/**
 * The per-minute counts behind GET /v1/stats, on real SQLite through the real
 * processor and dispatcher: what they add up to, and that a billable message counts
 * once however many priced statuses it gets.
 */
import { afterEach, expect, test } from "bun:test";
import { reportStore } from "../../src/store/report-store";
import { fixture, hook, pipeline } from "../support/pipeline";
import { Sink } from "../support/sink";
import { statusesPayload } from "../support/webhooks";

const sinks: Sink[] = [];
afterEach(() => sinks.splice(0).forEach((s) => s.stop()));

const statuses = statusesPayload;
const priced = { billable: true, pricing_model: "PMP", category: "utility", type: "regular" };
const status = (id: string, s: string, extra: Record<string, unknown> = {}) => ({ id, status: s, timestamp: "1795400000", recipient_id: "16505551234", ...extra });

test("events by type, duplicates, the funnel, failures by code, billable once per message and deliveries per hook", async () => {
  const sink = new Sink().start();
  sinks.push(sink);
  const p = pipeline([hook({ name: "app", url: sink.url })]);
  p.post(fixture("message_text").payload);
  p.post(fixture("message_text").payload); // Meta's retry
  p.post(statuses(status("wamid.A", "sent", { pricing: priced }), status("wamid.A", "delivered", { pricing: priced }), status("wamid.A", "read")));
  p.post(statuses(status("wamid.B", "sent", { pricing: { ...priced, category: "marketing" } })));
  p.post(statuses(status("wamid.C", "failed", { errors: [{ code: 131026, title: "Message undeliverable" }] })));
  p.post(statuses(status("wamid.D", "sent", { pricing: { ...priced, billable: false } })));
  while ((await p.processor.runOnce()).jobs > 0);
  await p.dispatcher.drain();
  await p.dispatcher.flush();

  const r = reportStore(p.db);
  const since = p.clock.now() - 3_600_000;
  expect(r.eventsByType(since)).toEqual({ "message.received": 1, "message.status": 6 });
  expect(r.duplicatesSince(since)).toBe(1);
  expect(r.statuses(since)).toEqual({ sent: 3, delivered: 1, read: 1, failed: 1 });
  expect(r.failedByCode(since)).toEqual([{ code: 131026, n: 1 }]);
  const day = new Date(p.clock.now()).toISOString().slice(0, 10);
  expect(r.billable(since)).toEqual([
    { day, category: "marketing", n: 1 },
    { day, category: "utility", n: 1 },
  ]);
  expect(r.deliveredSince(since)).toEqual({ app: 7 });
  // Out of the window: nothing.
  expect(r.eventsByType(p.clock.now() + 60_000)).toEqual({});
});
