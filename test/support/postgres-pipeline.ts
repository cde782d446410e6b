/** The worker's processing on the PostgreSQL engine, for in-process tests against a real server. */
import type { SQL } from "bun";
import type { z } from "zod";
import { AlertsSchema, FallbackSchema, SweeperSchema, type Hook } from "../../src/config/schema";
import { postgresEventIds } from "../../src/store/postgres/event-ids";
import { postgresInbox } from "../../src/store/postgres/inbox-store";
import { postgresProcessing } from "../../src/store/postgres/processing-engine";
import { PostgresFallback } from "../../src/sweeper/postgres-fallback";
import { Processor } from "../../src/worker/processor";
import { quiet, TestClock, webhookRecord } from "./pipeline";

export interface PostgresPipelineOptions {
  clock?: TestClock;
  instance?: string;
  batchSize?: number;
  /** SMS fallback and alerts, as the daemon builds them (sweeper/postgres-fallback.ts). */
  fallback?: z.input<typeof FallbackSchema>;
  alerts?: z.input<typeof AlertsSchema>;
}

export async function postgresPipeline(sql: SQL, hooks: Hook[] = [], opts: PostgresPipelineOptions = {}) {
  const clock = opts.clock ?? new TestClock();
  const instance = opts.instance ?? "test";
  const inbox = postgresInbox(sql, instance);
  const settings = { fallback: FallbackSchema.parse(opts.fallback ?? {}), sweeper: SweeperSchema.parse({ batch_size: opts.batchSize }), hooks, alerts: AlertsSchema.parse(opts.alerts ?? {}) };
  /** One instance's processor and, beside it, its fallback and alerts. */
  const newInstance = async (name = instance) => {
    const eventId = await postgresEventIds(sql);
    const fallback = new PostgresFallback(sql, settings, eventId, clock, quiet, name);
    const processor = new Processor(postgresProcessing(sql, fallback.followUp), eventId, {
      instance: name,
      hooks,
      maxAttempts: 3,
      batchSize: opts.batchSize ?? 100,
      leaseMs: 60_000,
      passBudgetMs: 60_000,
      clock,
      log: quiet,
      tracker: fallback.tracker,
      alerter: fallback.alerter,
    });
    const job = (name: string) => fallback.jobs.find((j) => j.name === name)!.run();
    return { processor, fallback, job };
  };
  const newProcessor = async (name = instance) => (await newInstance(name)).processor;
  const postMany = (bodies: unknown[]) => inbox.appendBatch(bodies.map((b) => webhookRecord(b, clock.now())));
  const post = async (body: unknown) => (await postMany([body]))[0]!;
  const count = async (query: string) => Number((await sql.unsafe(query))[0].n);
  const first = await newInstance();
  return { sql, clock, inbox, processor: first.processor, fallback: first.fallback, job: first.job, newProcessor, newInstance, post, postMany, count };
}
