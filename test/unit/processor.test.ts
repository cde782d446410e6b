/** Inbox → events on a real SQLite file. */
import { describe, expect, test } from "bun:test";
import { queueStore } from "../../src/store/queue-store";
import { fixture, hook, pipeline, TickingClock } from "../support/pipeline";
import { textMessage } from "../support/webhooks";
import { reprocessDeadInbox } from "../../src/store/requeue-store";
import { withoutQuotedText } from "../../src/worker/processor";

const all = hook({ name: "all", url: "http://127.0.0.1:1/all" });
const messagesOnly = hook({ name: "messages", url: "http://127.0.0.1:1/m", events: ["message.*"] });
const otherNumber = hook({ name: "other-number", url: "http://127.0.0.1:1/o", phone_number_ids: ["999"] });

describe("Processor", () => {
  test("a batched POST of mixed fields → one event per item, deliveries per matching hook", async () => {
    const p = pipeline([all, messagesOnly, otherNumber]);
    const text = fixture("message_text").payload as { entry: { changes: unknown[] }[] };
    const failed = fixture("status_failed").payload as { entry: { changes: unknown[] }[] };
    const tpl = fixture("template_status_paused").payload as { entry: unknown[] };
    const batched = { object: "whatsapp_business_account", entry: [{ ...text.entry[0], changes: [...text.entry[0]!.changes, ...failed.entry[0]!.changes] }, tpl.entry[0]] };
    const inboxId = p.post(batched);
    expect(await p.processor.runOnce()).toEqual({
      jobs: 1,
      released: 0,
      unfinished: 0,
      events: 3,
      duplicates: 0,
      dead: 0,
      types: { "message.received": 1, "message.status": 1, "template.status": 1 },
      transitions: { "failed>failed": 1 },
    });
    expect(p.db.query("SELECT type FROM events WHERE inbox_id = ? ORDER BY rowid").all(inboxId)).toEqual([
      { type: "message.received" },
      { type: "message.status" },
      { type: "template.status" },
    ]);
    expect(p.count("SELECT count(*) n FROM deliveries WHERE hook = 'all'")).toBe(3);
    expect(p.count("SELECT count(*) n FROM deliveries WHERE hook = 'messages'")).toBe(2);
    expect(p.count("SELECT count(*) n FROM deliveries WHERE hook = 'other-number'")).toBe(0);
    expect(p.db.query("SELECT state, attempts FROM inbox WHERE id = ?").get(inboxId)).toEqual({ state: "done", attempts: 1 });
    // state tables
    expect(p.db.query("SELECT profile_name FROM contacts WHERE wa_id = '16505551234'").get()).toEqual({ profile_name: "Sheena Nelson" });
    expect(p.db.query("SELECT status FROM outbound_messages").get()).toEqual({ status: "failed" });
    expect(p.db.query("SELECT status, quality FROM templates WHERE template_id = '1689556908129832'").get()).toEqual({ status: "PAUSED", quality: null });
  });

  test("one POST with 1,000 updates (Meta's documented maximum) → 1,000 events, none dropped", async () => {
    const p = pipeline([all]);
    const statuses = Array.from({ length: 1000 }, (_, i) => ({ id: `wamid.M${i}`, status: "delivered", timestamp: "1750030080", recipient_id: "16505551234" }));
    p.post({ object: "whatsapp_business_account", entry: [{ id: "1", changes: [{ field: "messages", value: { metadata: { phone_number_id: "106540352242922" }, statuses } }] }] });
    expect(await p.processor.runOnce()).toMatchObject({ jobs: 1, events: 1000, duplicates: 0 });
    expect(p.count("SELECT count(*) n FROM outbound_messages WHERE status = 'delivered'")).toBe(1000);
    expect(p.count("SELECT count(*) n FROM deliveries")).toBe(1000);
  });

  test("the envelope carries a stable evt_ ULID id, ISO times and the raw item", async () => {
    const p = pipeline([all]);
    p.post(fixture("message_text").payload);
    await p.processor.runOnce();
    const envelope = JSON.parse((p.db.query("SELECT envelope FROM events").get() as { envelope: string }).envelope);
    expect(envelope.id).toMatch(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(envelope).toMatchObject({
      type: "message.received",
      timestamp: "2025-06-08T20:59:43.000Z",
      received_at: new Date(p.clock.now()).toISOString(),
      waba_id: "102290129340398",
      phone_number_id: "106540352242922",
      display_phone_number: "15550783881",
      data: { wamid: "wamid.TEXT", kind: "text" },
      raw: { id: "wamid.TEXT", type: "text" },
    });
  });

  test("the same payload 5× concurrently and again later → one event, duplicates counted", async () => {
    const p = pipeline([all]);
    for (let i = 0; i < 5; i++) p.post(fixture("message_text").payload);
    expect(await p.processor.runOnce()).toMatchObject({ jobs: 5, events: 1, duplicates: 4 });
    p.clock.advance(8 * 86_400_000 + 3_600_000); // Meta retries for up to 7 days: keys outlive that
    p.post(fixture("message_text").payload);
    expect(await p.processor.runOnce()).toMatchObject({ jobs: 1, events: 0, duplicates: 1 });
    expect(p.count("SELECT count(*) n FROM events")).toBe(1);
    expect(p.count("SELECT count(*) n FROM deliveries")).toBe(1);
    expect(p.count("SELECT duplicates n FROM dedup_keys WHERE key = 'msg:wamid.TEXT'")).toBe(5);
  });

  test("unknown field and unknown message type are kept and forwarded", async () => {
    const p = pipeline([all]);
    p.post(fixture("unknown_field").payload);
    p.post(fixture("message_unknown_type").payload);
    await p.processor.runOnce();
    const rows = p.db.query("SELECT type, envelope FROM events ORDER BY rowid").all() as { type: string; envelope: string }[];
    expect(rows.map((r) => r.type)).toEqual(["webhook.unknown", "message.received"]);
    expect(JSON.parse(rows[0]!.envelope).raw).toEqual({ configuration_name: "cfg", status: "Active" });
    expect(JSON.parse(rows[1]!.envelope).data).toMatchObject({ kind: "hologram", hologram: { id: "h-1" } });
    expect(p.count("SELECT count(*) n FROM deliveries")).toBe(2);
  });

  test("a body that is not JSON: its reason (stored, logged) quotes none of its text", async () => {
    const p = pipeline([all]);
    const id = p.post("Alice_Smith_lives_at_12_Main_Street_password_hunter2");
    expect(await p.processor.runOnce()).toMatchObject({ jobs: 1, dead: 1 });
    const { last_error } = p.db.query("SELECT last_error FROM inbox WHERE id = ?").get(id) as { last_error: string };
    expect(last_error).toBe('body is not valid JSON: JSON Parse error: Unexpected identifier "…"');
    expect(withoutQuotedText('Unexpected identifier "tru"; "unterminated')).toBe('Unexpected identifier "…"; "…"');
  });

  test("signed but malformed JSON → dead with its error; reprocessable", async () => {
    const p = pipeline([all]);
    const id = p.post('{"object":"whatsapp_business_account","entry":[');
    expect(await p.processor.runOnce()).toMatchObject({ jobs: 1, dead: 1, events: 0 });
    const row = p.db.query("SELECT state, last_error FROM inbox WHERE id = ?").get(id) as { state: string; last_error: string };
    expect(row.state).toBe("dead");
    expect(row.last_error).toStartWith("body is not valid JSON");
    expect(reprocessDeadInbox(p.db, id)).toBe(1);
    expect(p.db.query("SELECT state, attempts FROM inbox WHERE id = ?").get(id)).toEqual({ state: "pending", attempts: 0 });
  });

  test("every order of sent/delivered/read/failed ends as read, with the whole timeline kept", async () => {
    const statuses = ["sent", "delivered", "read", "failed"];
    const orders = [statuses, [...statuses].reverse(), ["read", "failed", "sent", "delivered"], ["failed", "read", "delivered", "sent"]];
    for (const order of orders) {
      const p = pipeline();
      const currents: string[] = [];
      for (const status of order) {
        p.post({ object: "whatsapp_business_account", entry: [{ id: "1", changes: [{ field: "messages", value: { metadata: { phone_number_id: "106540352242922" }, statuses: [{ id: "wamid.P", status, timestamp: "1750030073", recipient_id: "16505551234" }] } }] }] });
        await p.processor.runOnce();
        const env = JSON.parse((p.db.query("SELECT envelope FROM events ORDER BY rowid DESC LIMIT 1").get() as { envelope: string }).envelope);
        currents.push(env.data.current_status);
      }
      expect(p.db.query("SELECT status, recipient_id FROM outbound_messages WHERE wamid = 'wamid.P'").get()).toEqual({ status: "read", recipient_id: "16505551234" });
      expect(p.db.query("SELECT status FROM message_statuses WHERE wamid = 'wamid.P' ORDER BY id").all().map((r) => (r as { status: string }).status)).toEqual(order);
      expect(currents.at(-1)).toBe("read");
    }
  });

  test("a marketing stop marks the contact opted out", async () => {
    const p = pipeline();
    p.post(fixture("user_preferences_stop").payload);
    await p.processor.runOnce();
    expect(p.db.query("SELECT marketing_opt_out FROM contacts WHERE wa_id = '16505551234'").get()).toEqual({ marketing_opt_out: 1 });
  });
});

describe("inbox leases", () => {
  test("a pass out of time gives the jobs it did not reach back, their attempts uncounted", async () => {
    const p = pipeline([], { passBudgetMs: 0 });
    const ids = [0, 1, 2].map((i) => p.post(JSON.parse(JSON.stringify(fixture("message_text").payload).replace("wamid.TEXT", `wamid.B${i}`))));
    expect(await p.processor.runOnce()).toMatchObject({ jobs: 3, released: 2, events: 1 });
    expect(p.db.query("SELECT id, state, attempts FROM inbox ORDER BY id").all()).toEqual([
      { id: ids[0], state: "done", attempts: 1 },
      { id: ids[1], state: "pending", attempts: 0 },
      { id: ids[2], state: "pending", attempts: 0 },
    ]);
    while ((await p.processor.runOnce()).jobs > 0);
    expect(p.count("SELECT count(*) n FROM events")).toBe(3);
  });

  test("after a pass out of time, the next claims about what a pass gets through, not the whole batch again", async () => {
    // Each pass has time for one job only (its body read, as a claim reads every claimed job's,
    // can cost more than the whole budget: 200 bodies of 100 KB took 35-120 ms, the budget is 10-50 ms).
    const p = pipeline([], { passBudgetMs: 0 });
    const text = JSON.stringify(fixture("message_text").payload);
    for (let i = 0; i < 60; i++) p.post(JSON.parse(text.replace("wamid.TEXT", `wamid.C${i}`)));
    let claimed = 0;
    let passes = 0;
    for (let stats = await p.processor.runOnce(); stats.jobs > 0; stats = await p.processor.runOnce()) {
      claimed += stats.jobs;
      if (++passes > 200) throw new Error("never finished");
    }
    expect(p.count("SELECT count(*) n FROM inbox WHERE state = 'done'")).toBe(60);
    expect(passes).toBe(60);
    // The first pass claims the batch (60 waiting); each later one two jobs, one given back. Claiming the batch every pass: 60+59+…+1 = 1,830.
    expect(claimed).toBeLessThanOrEqual(60 + 2 * 59);
  });

  test("attempts are counted at claim; an expired lease goes back; the old holder cannot finalize", () => {
    const p = pipeline();
    const id = p.post(fixture("message_text").payload);
    const queue = queueStore(p.db);
    const now = p.clock.now();
    expect(queue.claim("token-a", now + 1000, now, 10).map((j) => [j.id, j.attempts])).toEqual([[id, 1]]);
    expect(queue.claim("token-b", now + 1000, now, 10)).toEqual([]); // leased
    const later = now + 1001;
    expect(queue.claim("token-b", later + 1000, later, 10).map((j) => [j.id, j.attempts])).toEqual([[id, 2]]);
    expect(queue.finish(id, "token-a", later)).toBe(false);
    expect(queue.finish(id, "token-b", later)).toBe(true);
    expect(p.db.query("SELECT state FROM inbox WHERE id = ?").get(id)).toEqual({ state: "done" });
  });

  test("a job past max attempts is marked dead with its last error", async () => {
    const p = pipeline([], { maxAttempts: 2 });
    const id = p.post(fixture("message_text").payload);
    const queue = queueStore(p.db);
    // Two attempts that crashed (leases expired without finishing).
    for (let i = 0; i < 2; i++) {
      queue.claim(`crashed-${i}`, p.clock.now() + 10, p.clock.now(), 10);
      p.clock.advance(11);
    }
    expect(await p.processor.runOnce()).toMatchObject({ jobs: 1, dead: 1 });
    expect(p.db.query("SELECT state, attempts FROM inbox WHERE id = ?").get(id)).toEqual({ state: "dead", attempts: 3 });
  });
});

describe("a job too big for one pass", () => {
  const bigPost = (n: number) => {
    const one = JSON.parse(textMessage("wamid.X"));
    one.entry[0].changes[0].value.messages = Array.from({ length: n }, (_, i) => ({ ...one.entry[0].changes[0].value.messages[0], id: `wamid.BIG${i}` }));
    return one;
  };

  test("is processed in slices within the pass budget: every event once, attempts not used up", async () => {
    // Each clock read "takes" 1 ms, so a 20 ms budget ends a pass after a few slices.
    const p = pipeline([], { passBudgetMs: 20, clock: new TickingClock(1), maxAttempts: 2 });
    const id = p.post(bigPost(2_000));
    p.post(textMessage("wamid.AFTER"));
    let passes = 0;
    while (p.count("SELECT count(*) n FROM inbox WHERE state = 'done'") < 2) {
      const stats = await p.processor.runOnce();
      passes++;
      expect(stats.dead).toBe(0);
      if (passes > 500) throw new Error("never finished");
    }
    expect(passes).toBeGreaterThan(5);
    expect(p.count("SELECT count(*) n FROM events")).toBe(2_001);
    expect(p.count("SELECT sum(duplicates) n FROM dedup_keys")).toBe(0);
    expect(p.db.query("SELECT state, attempts FROM inbox WHERE id = ?").get(id)).toEqual({ state: "done", attempts: 1 });
    expect(p.count("SELECT count(*) n FROM job_progress")).toBe(0);
  });

  test("after a restart mid-job, the next run goes on from the stored progress without duplicates", async () => {
    const p = pipeline([], { passBudgetMs: 20, clock: new TickingClock(1) });
    p.post(bigPost(1_000));
    await p.processor.runOnce();
    const progress = (p.db.query("SELECT progress FROM job_progress").get() as { progress: number }).progress;
    expect(progress).toBeGreaterThan(0);
    expect(progress).toBeLessThan(1_000);
    // A restart: the job's lease was this run's; after it expires a new run takes it,
    // parses the body again and skips what is stored.
    p.clock.advance(61_000);
    const restarted = p.newProcessor();
    while (p.count("SELECT count(*) n FROM inbox WHERE state = 'done'") < 1) await restarted.runOnce();
    expect(p.count("SELECT count(*) n FROM events")).toBe(1_000);
    expect(p.count("SELECT sum(duplicates) n FROM dedup_keys")).toBe(0);
  });
});
