/**
 * The admin API's queue operations and alert list on the PostgreSQL engine, against a
 * real server and side by side with the SQLite engine fed the same webhooks: a range
 * replay a page at a time (each event once over the pages, the same counts and cursors'
 * presence, the same refusals); orphaned deliveries listed, refused a retry, moved and
 * cancelled with the same answers; a hook another live instance runs is not orphaned;
 * GET /v1/alerts with the same pages, cursors and filters.
 */
import { expect, test } from "bun:test";
import type { SQL } from "bun";
import { adminOps, type AdminOp } from "../../src/admin/ops";
import { postgresAdminOps } from "../../src/admin/postgres-ops";
import type { HookRoute } from "../../src/config/schema";
import { instanceHooksStore } from "../../src/store/postgres/instance-hooks";
import { encodeCursor } from "../../src/admin/params";
import { fixtureCorpus, hook, pipeline } from "../support/pipeline";
import { migratedDatabase } from "../support/postgres";
import { postgresPipeline } from "../support/postgres-pipeline";

const APP = hook({ name: "app", url: "http://127.0.0.1:9/app", events: ["message.*"] });
const CRM = hook({ name: "crm", url: "http://127.0.0.1:9/crm" });

/** Both engines fed the fixture corpus with `hooks`, processed; each answers admin ops with `running` as its config's hooks. */
async function engines(hooks = [APP, CRM]) {
  const { sql } = await migratedDatabase();
  const pg = await postgresPipeline(sql, hooks);
  const lite = pipeline(hooks);
  await pg.postMany(fixtureCorpus());
  lite.postMany(fixtureCorpus());
  while ((await pg.processor.runOnce()).jobs > 0);
  while ((await lite.processor.runOnce()).jobs > 0);
  const pgAsk = (op: AdminOp, running: readonly HookRoute[], live: string[] = []) => postgresAdminOps(sql, () => null, () => running, async () => live, () => null)(op);
  const ask = async (op: AdminOp, running: readonly HookRoute[]) => ({ pg: await pgAsk(op, running), lite: await adminOps(lite.db, null, running)(op, lite.clock.now()) });
  return { sql, pg, lite, ask, pgAsk };
}

/** An answer without what differs by engine run: event ids in cursors (present or not) and rows' ids and times. */
const comparable = (a: { status: number; body: unknown }) => {
  const body = a.body as Record<string, unknown>;
  if (!("next_cursor" in body)) return a;
  const { next_cursor: cursor, data, ...rest } = body as { next_cursor: string | null; data?: Record<string, unknown>[] };
  const rows = data?.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !["id", "event_id", "created_at", "updated_at", "next_attempt_at"].includes(k))));
  return { status: a.status, body: { ...rest, ...(rows ? { data: rows } : {}), more: cursor !== null } };
};

test("a range replay a page at a time: the same pages as SQLite, each event once, the same refusals", async () => {
  const { pg, ask } = await engines();
  const replay = (body: Record<string, unknown>, cursor?: { pg: string | null; lite: string | null }) => ({
    pg: { op: "replay" as const, body: { since: "2026-01-01", until: "2026-12-01", limit: 1000, ...body, ...(cursor?.pg ? { cursor: cursor.pg } : {}) } },
    lite: { op: "replay" as const, body: { since: "2026-01-01", until: "2026-12-01", limit: 1000, ...body, ...(cursor?.lite ? { cursor: cursor.lite } : {}) } },
  });
  const both = async (ops: ReturnType<typeof replay>) => {
    const [a, b] = await Promise.all([ask(ops.pg as AdminOp, [APP, CRM]), ask(ops.lite as AdminOp, [APP, CRM])]);
    return { pg: a.pg, lite: b.lite };
  };
  const total = await pg.count("SELECT count(*) n FROM events");
  let cursor: { pg: string | null; lite: string | null } | undefined;
  let events = 0;
  let pages = 0;
  do {
    const page = await both(replay({ limit: 7 }, cursor));
    expect(page.pg.status).toBe(200);
    expect(comparable(page.pg)).toEqual(comparable(page.lite));
    const next = (a: { body: unknown }) => (a.body as { next_cursor: string | null }).next_cursor;
    cursor = { pg: next(page.pg), lite: next(page.lite) };
    events += (page.pg.body as { events: number }).events;
    pages++;
  } while (cursor.pg !== null);
  expect(events).toBe(total);
  expect(pages).toBe(Math.ceil(total / 7));
  // Every event queued again to what wants it: app's message.* and crm's every type, none twice.
  expect(await pg.count("SELECT count(*) n FROM deliveries WHERE hook = 'crm'")).toBe(total);
  expect(await pg.count("SELECT count(*) n FROM deliveries WHERE state = 'pending' AND attempts = 0")).toBe(await pg.count("SELECT count(*) n FROM deliveries"));

  for (const body of [{ type: "message.*" }, { type: "template.*", hook: "app" }, { until: "2026-11-23T12:00:00Z" }, { since: "2026-11-23T12:00:00Z" }, { since: "2026-11-23T12:00:00.001Z" }]) {
    const page = await both(replay(body));
    expect(comparable(page.pg)).toEqual(comparable(page.lite));
  }
  const forced = await both(replay({ type: "template.*", hook: "app" }));
  expect((forced.pg.body as { deliveries: number }).deliveries).toBeGreaterThan(0);
  for (const bad of [{ type: "nothing.*" }, { hook: "nope" }, { until: "2025-01-01" }, { cursor: encodeCursor("not-an-event") }]) {
    const refused = await both(replay(bad));
    expect(refused.pg.status).toBe(400);
    expect(refused.pg).toEqual(refused.lite);
  }
});

test("orphaned deliveries (crm no longer run): listed, refused a retry, moved and cancelled as on SQLite; a hook another live instance runs is not orphaned", async () => {
  const { sql, pg, lite, ask, pgAsk } = await engines();
  const running = [APP];
  const same = async (op: AdminOp) => {
    const r = await ask(op, running);
    expect(comparable(r.pg)).toEqual(comparable(r.lite));
    return r.pg;
  };
  const list = await same({ op: "deliveries", query: { orphaned: true, limit: 500 } });
  const orphaned = (list.body as { data: { hook: string; orphaned: boolean }[] }).data;
  expect(orphaned.length).toBeGreaterThan(0);
  expect(orphaned.every((d) => d.hook === "crm" && d.orphaned)).toBe(true);
  // Stats count them the same (the rest of the stats is compared on the binaries: it reads the clock).
  const stats = await ask({ op: "stats" }, running);
  const orphanedIn = (a: { body: unknown }) => (a.body as { deliveries: { orphaned: unknown } }).deliveries.orphaned;
  expect(orphanedIn(stats.pg)).toEqual(orphanedIn(stats.lite));
  expect(orphanedIn(stats.pg)).toMatchObject({ crm: { pending: orphaned.length } });
  const crmDelivery = async (db: "pg" | "lite") =>
    db === "pg" ? Number((await sql`SELECT min(id) AS id FROM deliveries WHERE hook = 'crm'`)[0].id) : lite.count("SELECT min(id) n FROM deliveries WHERE hook = 'crm'");
  const retry = await ask({ op: "retry-delivery", id: await crmDelivery("pg") }, running);
  const liteRetry = await adminOps(lite.db, null, running)({ op: "retry-delivery", id: await crmDelivery("lite") }, lite.clock.now());
  expect(retry.pg.status).toBe(409);
  expect((retry.pg.body as { error: string }).error).toBe("orphaned");
  expect((retry.pg.body as { reason: string }).reason.replace(/\d+/, "N")).toBe((liteRetry.body as { reason: string }).reason.replace(/\d+/, "N"));

  // Run by another live instance: not orphaned, and retried like any other.
  const live = await pgAsk({ op: "orphans", body: { action: "cancel", hook: "crm" } }, running, ["crm"]);
  expect(live.status).toBe(400);
  expect((live.body as { reason: string }).reason).toContain("the daemon runs it");
  expect((await pgAsk({ op: "deliveries", query: { orphaned: true, limit: 500 } }, running, ["crm"])).body).toEqual({ data: [], next_cursor: null });
  const retriedByOther = await pgAsk({ op: "retry-delivery", id: await crmDelivery("pg") }, running, ["crm"]);
  expect((retriedByOther.body as { error: string }).error).toBe("not_dead"); // not refused as orphaned: pending, so not retried

  for (const body of [{ action: "move" as const, to: "nope" }, { action: "cancel" as const, hook: "app" }, { action: "cancel" as const, hook: "gone" }]) {
    expect((await same({ op: "orphans", body })).status).toBe(400);
  }
  const moved = await same({ op: "orphans", body: { action: "move", to: "app" } });
  expect(moved.status).toBe(200);
  expect((moved.body as { cancelled: Record<string, number> }).cancelled.crm).toBe(orphaned.length);
  expect(await pg.count("SELECT count(*) n FROM deliveries WHERE hook = 'crm' AND state <> 'cancelled'")).toBe(0);
  expect(await same({ op: "orphans", body: { action: "cancel" } })).toEqual({ status: 200, body: { cancelled: {}, moved_to: null, queued: 0 } });
});

test("the hooks live instances run: a stale instance's do not count, a reload replaces an instance's list", async () => {
  const { sql } = await migratedDatabase();
  const store = instanceHooksStore(sql);
  const register = (name: string, seenAgoMs: number) =>
    sql`INSERT INTO instances (name, token, host, pid, version, started_at, seen_at)
        VALUES (${name}, 't', 'h', 1, 'v', 0, (extract(epoch FROM clock_timestamp()) * 1000)::int8 - ${seenAgoMs})`;
  await register("wa-1", 0);
  await register("wa-2", 0);
  await register("wa-dead", 120_000);
  await store.record("wa-1", [APP], 1);
  await store.record("wa-2", [CRM, APP], 1);
  await store.record("wa-dead", [hook({ name: "old", url: "http://127.0.0.1:9/old" })], 1);
  expect(await store.live(30_000)).toEqual(["app", "crm"]);
  await store.record("wa-2", [APP], 2);
  expect(await store.live(30_000)).toEqual(["app"]);
  await store.record("wa-1", [], 3);
  expect(await store.live(30_000)).toEqual(["app"]);
});

test("GET /v1/alerts: the same pages, cursors, filters and refusals as SQLite", async () => {
  const { sql } = await migratedDatabase();
  const lite = pipeline();
  const t0 = Date.parse("2026-11-01T00:00:00Z");
  const rows = Array.from({ length: 9 }, (_, i) => ({
    kind: ["template.paused", "hook.dead", "sms.failing"][i % 3]!,
    key: `k${i}`,
    state: ["pending", "sent", "recorded"][i % 3]!,
    at: t0 + i * 86_400_000,
  }));
  for (const r of rows) {
    const values = [r.kind, r.key, r.state, r.at, r.state === "sent" ? r.at + 5 : null] as const;
    await sql`INSERT INTO alerts (kind, dedup_key, severity, title, text, data, state, next_attempt_at, created_at, sent_at, updated_at)
              VALUES (${values[0]}, ${values[1]}, 'critical', 'title', 'text', '{"n":1}', ${values[2]}, ${values[3]}, ${values[3]}, ${values[4]}, ${values[3]})`;
    lite.db.run(
      `INSERT INTO alerts (kind, dedup_key, severity, title, text, data, state, next_attempt_at, created_at, sent_at, updated_at) VALUES (?, ?, 'critical', 'title', 'text', '{"n":1}', ?, ?, ?, ?, ?)`,
      [values[0], values[1], values[2], values[3], values[3], values[4], values[3]],
    );
  }
  const ask = async (query: Record<string, unknown>) => {
    const op = { op: "alerts" as const, query: { limit: 50, ...query } } as AdminOp;
    return { pg: await postgresAdminOps(sql, () => null, () => [], async () => [], () => null)(op), lite: await adminOps(lite.db, null, [])(op, lite.clock.now()) };
  };
  let cursor: string | undefined;
  let seen = 0;
  do {
    const page = await ask({ limit: 4, ...(cursor ? { cursor } : {}) });
    expect(page.pg).toEqual(page.lite);
    seen += (page.pg.body as { data: unknown[] }).data.length;
    cursor = (page.pg.body as { next_cursor: string | null }).next_cursor ?? undefined;
  } while (cursor);
  expect(seen).toBe(rows.length);
  for (const query of [{ kind: "template.*" }, { kind: "hook.dead", state: "sent" }, { since: "2026-11-03", until: "2026-11-06" }, { state: "recorded" }]) {
    const page = await ask(query);
    expect(page.pg).toEqual(page.lite);
    expect((page.pg.body as { data: unknown[] }).data.length).toBeGreaterThan(0);
  }
  for (const query of [{ kind: "nothing.*" }, { cursor: "%%%" }, { since: "2026-11-05", until: "2026-11-05" }]) {
    const page = await ask(query);
    expect(page.pg.status).toBe(400);
    expect(page.pg).toEqual(page.lite);
  }
});
