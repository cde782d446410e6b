/**
 * The `retention` job on a real SQLite file: what is old and finished goes, what an
 * operator may still need stays, dedup keys outlive Meta's 7 days of retries, and
 * the file gives the space back.
 */
import { afterEach, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { statSync } from "node:fs";
import { retentionCutoffs } from "../../src/sweeper/retention";
import { fixture, hook, pipeline } from "../support/pipeline";
import { Sink } from "../support/sink";
import { statusesPayload } from "../support/webhooks";

const DAY = 86_400_000;
const sinks: Sink[] = [];
afterEach(() => sinks.splice(0).forEach((s) => s.stop()));

const statuses = statusesPayload;
const status = (id: string, s: string, atMs: number) => ({ id, status: s, timestamp: String(Math.floor(atMs / 1000)), recipient_id: "16505551234", pricing: { category: "utility" } });

test("cut-offs: dedup keys are kept at least 8 days, whatever the retention", () => {
  expect(retentionCutoffs(100 * DAY, DAY)).toEqual({ cutoff: 99 * DAY, dedupCutoff: 92 * DAY, statsCutoff: 92 * DAY });
  expect(retentionCutoffs(100 * DAY, 30 * DAY)).toEqual({ cutoff: 70 * DAY, dedupCutoff: 70 * DAY, statsCutoff: 70 * DAY });
});

test("old and finished rows go, in every table; pending work, dead letters, open fallbacks and current state stay", async () => {
  const good = new Sink().start();
  const bad = new Sink().start();
  bad.respond = () => new Response("no", { status: 400 });
  sinks.push(good, bad);
  const p = pipeline([hook({ name: "good", url: good.url }), hook({ name: "bad", url: bad.url, events: ["template.*"], retry_schedule: ["1s"] })], {
    retention: "1d",
    fallback: { enabled: true, stale_after: "1h", not_after: "30d", sms: { url: `${good.url}/sms` } },
  });
  const t0 = p.clock.now();
  const run = async () => {
    while ((await p.processor.runOnce()).jobs > 0);
    await p.dispatcher.drain();
    p.clock.advance(1_000);
    await p.dispatcher.drain();
    await p.dispatcher.flush();
  };

  // Day 0: an inbound message, a delivered outbound one, one still open, a paused template (its delivery to "bad" dies).
  p.post(fixture("message_text").payload);
  p.post(statuses(status("wamid.DONE", "sent", t0), status("wamid.DONE", "delivered", t0 + 1_000)));
  p.post(statuses(status("wamid.OPEN", "sent", t0)));
  p.post(fixture("template_status_paused").payload);
  await run();
  p.post("not json at all"); // dead at once: kept for `reprocess`
  while ((await p.processor.runOnce()).jobs > 0);
  const before = {
    events: p.count("SELECT count(*) n FROM events"),
    inbox: p.count("SELECT count(*) n FROM inbox"),
    deadDeliveries: p.count("SELECT count(*) n FROM deliveries WHERE state = 'dead'"),
  };
  expect(before).toEqual({ events: 5, inbox: 5, deadDeliveries: 1 });
  expect(p.count("SELECT count(*) n FROM state_history")).toBeGreaterThan(0);

  // Day 2: something new arrives, then retention runs.
  p.clock.advance(2 * DAY);
  p.post(statuses(status("wamid.NEW", "sent", p.clock.now())));
  await run();
  const result = await p.sweeper.jobs.run("retention");
  expect(result).toMatchObject({ ran: true, result: { deliveries: 5, events: 4, inbox: 3, outbound: 1, tracked: 1, inbound: 1, dedup_keys: 0 } });

  // Kept: the event with a dead delivery (and its inbox row), the dead inbox row, the open and the new message.
  expect(p.db.query("SELECT type FROM events ORDER BY id").all()).toEqual([{ type: "template.status" }, { type: "message.status" }]);
  expect(p.count("SELECT count(*) n FROM inbox")).toBe(3);
  expect(p.count("SELECT count(*) n FROM inbox WHERE state = 'dead'")).toBe(1);
  expect(p.count("SELECT count(*) n FROM inbox_bodies")).toBe(3);
  expect(p.db.query("SELECT wamid FROM outbound_messages ORDER BY wamid").all()).toEqual([{ wamid: "wamid.NEW" }, { wamid: "wamid.OPEN" }]);
  expect(p.db.query("SELECT wamid FROM tracked_messages ORDER BY wamid").all()).toEqual([{ wamid: "wamid.NEW" }, { wamid: "wamid.OPEN" }]);
  expect(p.count("SELECT count(*) n FROM message_statuses WHERE wamid = 'wamid.DONE'")).toBe(0);
  expect(p.count("SELECT count(*) n FROM inbound_messages")).toBe(0);
  expect(p.count("SELECT count(*) n FROM state_history")).toBe(0);
  expect(p.db.query("SELECT value FROM state_values WHERE attribute = 'status'").get()).toEqual({ value: "PAUSED" });
  expect(p.db.query("PRAGMA foreign_key_check").all()).toEqual([]);

  // Meta retries a day-0 webhook on day 2: still a duplicate (the keys outlive 7 days of retries).
  p.post(fixture("message_text").payload);
  while ((await p.processor.runOnce()).jobs > 0);
  expect(p.count("SELECT count(*) n FROM events WHERE type = 'message.received'")).toBe(0);

  // Day 10: the day-0 keys go.
  p.clock.advance(8 * DAY);
  expect(await p.sweeper.jobs.run("retention")).toMatchObject({ ran: true, result: { dedup_keys: 5 } });
});

test("a new database file gives freed pages back: the file shrinks after retention", async () => {
  const p = pipeline([], { retention: "1h" });
  expect(p.db.query("PRAGMA auto_vacuum").get()).toEqual({ auto_vacuum: 2 });
  const big = structuredClone(fixture("message_text").payload) as { entry: { changes: { value: { messages: { text: { body: string } }[] } }[] }[] };
  for (let i = 0; i < 300; i++) {
    big.entry[0]!.changes[0]!.value.messages[0]!.text.body = `${i} ${"x".repeat(20_000)}`;
    p.post(big);
  }
  while ((await p.processor.runOnce()).jobs > 0);
  p.db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  const full = statSync(p.path).size;
  p.clock.advance(9 * 86_400_000);
  const run = await p.sweeper.jobs.run("retention");
  expect(run).toMatchObject({ ran: true, result: { inbox: 300, free_pages_left: 0 } });
  expect(run.ran && (run.result.freed_pages as number)).toBeGreaterThan(1000);
  p.db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  expect(statSync(p.path).size).toBeLessThan(full / 4);
  expect(new Database(p.path, { readonly: true }).query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
});
