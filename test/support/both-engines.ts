/**
 * The SQLite and PostgreSQL engines side by side, fed the same webhooks on the same
 * clock, dispatching to the same real hooks and sending SMS to the same provider: for
 * tests that compare the admin API's answers on both.
 */
import { afterEach } from "bun:test";
import { adminOps, type AdminOp } from "../../src/admin/ops";
import { postgresAdminOps } from "../../src/admin/postgres-ops";
import type { HookRoute } from "../../src/config/schema";
import { Dispatcher } from "../../src/forward/dispatcher";
import { postgresDispatch } from "../../src/store/postgres/dispatch-engine";
import type { Registration } from "../../src/sweeper/tracker";
import { hook, pipeline, quiet, TestClock } from "./pipeline";
import { migratedDatabase } from "./postgres";
import { postgresPipeline } from "./postgres-pipeline";
import { Sink } from "./sink";

const sinks: Sink[] = [];
afterEach(() => sinks.splice(0).forEach((s) => s.stop()));

/** A sink that answers each request with `respond` (default 200). */
export function sink(respond?: Sink["respond"]): Sink {
  const s = new Sink().start();
  if (respond) s.respond = respond;
  sinks.push(s);
  return s;
}

/**
 * Hook `app` (message.* events) answers 200; hook `crm` (every event) answers 503 and
 * gives up after one retry a second later; the SMS provider answers 200, or 400 to an
 * SMS whose Idempotency-Key (its wamid) starts with wamid.SMSFAIL.
 */
export async function bothEngines(start: number) {
  const app = sink();
  const crm = sink(() => new Response("down", { status: 503 }));
  const sms = sink((r) => (r.headers["idempotency-key"]!.startsWith("wamid.SMSFAIL") ? new Response("bad number", { status: 400 }) : new Response("ok")));
  const APP = hook({ name: "app", url: app.url, events: ["message.*"] });
  const CRM = hook({ name: "crm", url: crm.url, retry_schedule: ["1s"] });
  const hooks = [APP, CRM];
  const fallback = { enabled: true, stale_after: "1m", not_after: "1h", sms: { url: `http://127.0.0.1:${sms.port}/sms`, retry_schedule: ["1s"] } };
  const clock = new TestClock(start);
  const { sql } = await migratedDatabase(8);
  const pg = await postgresPipeline(sql, hooks, { clock, fallback });
  const lite = pipeline(hooks, { clock, fallback });
  const pgDispatcher = new Dispatcher(postgresDispatch(sql), { instance: "test", hooks, clock, log: quiet, random: () => 1 });

  /** What each step does, on both engines. */
  const both = {
    async post(bodies: unknown[]) {
      await pg.postMany(bodies);
      lite.postMany(bodies);
      while ((await pg.processor.runOnce()).jobs > 0);
      while ((await lite.processor.runOnce()).jobs > 0);
    },
    async dispatch() {
      for (const d of [pgDispatcher, lite.dispatcher]) {
        await d.drain();
        await d.flush();
      }
    },
    /** Registers outbound messages for SMS fallback (stale a minute later). */
    async register(items: Registration[]) {
      await pg.fallback.register(items, clock.now());
      lite.db.transaction(() => items.forEach((item) => lite.sweeper.tracker!.register(item, clock.now()))).immediate();
    },
    async job(name: "stale" | "fallback") {
      await pg.job(name);
      await lite.sweeper.jobs.run(name);
    },
  };
  /** An admin op answered by each engine; `running`: the hooks its config runs, `live`: those other live instances run (PostgreSQL). */
  const ask = async (op: AdminOp, running: readonly HookRoute[] = hooks, live: string[] = []) => ({
    pg: await postgresAdminOps(sql, () => null, () => running, async () => live, () => null)(op),
    lite: await adminOps(lite.db, null, running)(op, Date.now()),
  });
  return { sql, pg, lite, clock, both, ask, hooks, APP, CRM, app, crm, sms };
}

/** An OTP registered for fallback: stale a minute after registration. */
export const otp = (wamid: string): Registration => ({ wamid, to: "16505551234", text: "Your code is 1", category: "authentication", stale_after_ms: 60_000, not_after_ms: null, fallback: null });
