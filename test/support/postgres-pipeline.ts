/** The worker's processing on the PostgreSQL engine, for in-process tests against a real server. */
import type { SQL } from "bun";
import type { Hook } from "../../src/config/schema";
import { postgresEventIds } from "../../src/store/postgres/event-ids";
import { postgresInbox } from "../../src/store/postgres/inbox-store";
import { postgresProcessing } from "../../src/store/postgres/processing-engine";
import { Processor } from "../../src/worker/processor";
import { quiet, TestClock, webhookRecord } from "./pipeline";

export async function postgresPipeline(sql: SQL, hooks: Hook[] = [], opts: { clock?: TestClock; instance?: string; batchSize?: number } = {}) {
  const clock = opts.clock ?? new TestClock();
  const instance = opts.instance ?? "test";
  const inbox = postgresInbox(sql, instance);
  const newProcessor = async (name = instance) =>
    new Processor(postgresProcessing(sql), await postgresEventIds(sql), { instance: name, hooks, maxAttempts: 3, batchSize: opts.batchSize ?? 100, leaseMs: 60_000, passBudgetMs: 60_000, clock, log: quiet });
  const postMany = (bodies: unknown[]) => inbox.appendBatch(bodies.map((b) => webhookRecord(b, clock.now())));
  const post = async (body: unknown) => (await postMany([body]))[0]!;
  const count = async (query: string) => Number((await sql.unsafe(query))[0].n);
  return { sql, clock, inbox, processor: await newProcessor(), newProcessor, post, postMany, count };
}
