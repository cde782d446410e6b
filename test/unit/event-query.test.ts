/** GET /v1/events' queries (store/event-query.ts): a filtered page is an index range, never a table scan. */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { openDatabase } from "../../src/store/db";
import { pageQuery, type EventFilter } from "../../src/store/event-query";
import { migrate } from "../../src/store/migrate";
import { tempDir } from "../support/daemon";

const none: EventFilter = { types: null, phoneNumberId: null, wamid: null, waId: null, since: null, until: null };

test("every filter, alone or combined, with or without a cursor, is a SEARCH on an index ending in id", () => {
  const db = openDatabase(join(tempDir("wa-plan-"), "wa.db"), { synchronous: "normal", busyTimeoutMs: 1000, autoCheckpoint: true });
  migrate(db);
  const filters: [string, EventFilter, string | null][] = [
    ["type", { ...none, types: ["message.received"] }, "message.received"],
    ["type + phone + time", { ...none, types: ["message.status"], phoneNumberId: "1065", since: 1, until: 2 }, "message.status"],
    ["wamid", { ...none, wamid: "wamid.A" }, null],
    ["wamid + types", { ...none, wamid: "wamid.A", types: ["message.status", "message.received"] }, null],
    ["from", { ...none, waId: "16505551234" }, null],
    ["phone number", { ...none, phoneNumberId: "1065" }, null],
    ["since", { ...none, since: 1_700_000_000_000 }, null],
  ];
  for (const [name, filter, type] of filters) {
    for (const cursor of [null, "evt_01M85FEQF26QZPSSFXV61RRAKX"]) {
      const q = pageQuery(filter, type, "newest", cursor, 51);
      const statement = db.query<{ detail: string }, (string | number)[]>(`EXPLAIN QUERY PLAN ${q.sql}`);
      const plan = statement.all(...q.params).map((r) => r.detail);
      statement.finalize();
      expect({ name, plan: plan.filter((d) => !d.startsWith("SEARCH events USING")) }).toEqual({ name, plan: [] });
      expect(plan.join()).not.toContain("TEMP B-TREE"); // no sort: the index gives the order
    }
  }
  db.close();
});
