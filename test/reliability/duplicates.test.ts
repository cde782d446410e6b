/**
 * Case 7: a duplicate storm. Every fixture posted 5× at once to the compiled binary:
 * one event per item, one delivery per hook. Then, with an injected clock: the storm
 * again a week later (within Meta's retry window) makes nothing new, and 9 days after
 * that, once retention dropped the dedup keys, each item is one new event, still not 5.
 *
 * On PostgreSQL (WA_TEST_ENGINE=postgres) the storm is spread over three instances sharing
 * the database (the copies of one body go to different instances at once), and the
 * injected-clock half runs the same steps on that engine's processing, dispatch and
 * retention, in process.
 */
import { beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { requireBinary, startDaemon, stopAfterEach, tempDir, waitFor } from "../support/daemon";
import { cleanUpAfterAll, daemonConfigs, enginePipeline, ON_POSTGRES } from "../support/engine";
import { fixture, hook, pipeline, WHSEC } from "../support/pipeline";
import { Sink } from "../support/sink";
import { signedPost } from "../support/webhooks";
import { report, size } from "./size";

beforeAll(requireBinary);
cleanUpAfterAll(); // PostgreSQL: the databases of this file dropped after it
const { daemons, sinks } = stopAfterEach();

const FIXTURES = readdirSync(join(import.meta.dir, "../fixtures/payloads")).map((f) => f.replace(/\.json$/, ""));
const COPIES = 5;
const DAY = 86_400_000;

/** Events the corpus makes when each fixture is posted once (the in-process pipeline, same code). */
async function eventsOfOnePass(): Promise<number> {
  const p = pipeline();
  for (const name of FIXTURES) p.post(fixture(name).payload);
  while ((await p.processor.runOnce()).jobs > 0);
  return p.count("SELECT count(*) n FROM events");
}

const INSTANCES = ON_POSTGRES ? 3 : 1;

test(`every fixture posted ${COPIES}× at once${ON_POSTGRES ? ` across ${INSTANCES} instances` : ""}: one event per item, one delivery per hook`, async () => {
  const sink = new Sink().start();
  sinks.push(sink);
  const dir = tempDir();
  const dbPath = join(dir, "data/wa.db");
  const { configs, store } = await daemonConfigs({ storagePath: dbPath, toml: `[[hooks]]\nname = "app"\nurl = "${sink.url}"\nsecret = "${WHSEC}"\n` }, { dir, instances: INSTANCES });
  const instances = await Promise.all(configs.map((c) => startDaemon(c)));
  daemons.push(...instances);
  const rounds = size(1, 3);
  const bodies = FIXTURES.map((name) => JSON.stringify(fixture(name).payload));
  for (let r = 0; r < rounds; r++) {
    // Copy i of a body goes to instance i mod INSTANCES (SQLite: the one daemon).
    const answers = await Promise.all(bodies.flatMap((b) => Array.from({ length: COPIES }, (_, i) => signedPost(`${instances[i % instances.length]!.url}/webhook`, b))));
    expect(answers.every((a) => a.status === 200)).toBe(true);
  }
  const expected = await eventsOfOnePass();
  const n = (sql: string) => store.count(sql);
  await waitFor(async () => (await n("SELECT count(*) n FROM inbox WHERE state <> 'done'")) === 0 && (await n("SELECT count(*) n FROM deliveries WHERE state <> 'done'")) === 0, 30_000);
  const events = await n("SELECT count(*) n FROM events");
  const figures = {
    ...(ON_POSTGRES ? { instances: INSTANCES } : {}),
    posts: bodies.length * COPIES * rounds,
    events,
    duplicates_dropped: await n("SELECT coalesce(sum(duplicates), 0) n FROM dedup_keys"),
    deliveries: await n("SELECT count(*) n FROM deliveries"),
    hook_requests: sink.received.length,
  };
  await store.close();
  expect(events).toBe(expected);
  expect(figures.deliveries).toBe(events);
  expect(new Set(sink.received.map((r) => r.headers["webhook-id"])).size).toBe(events);
  expect(sink.received.length).toBe(events);
  report("duplicate storm", figures);
}, 60_000);

test("the storm a week later is still all duplicates; 9 days after that, past retention's dedup window, one new event per item", async () => {
  const sink = new Sink().start();
  sinks.push(sink);
  // SQLite: test/support/pipeline.ts; PostgreSQL: that engine's processing, dispatch and retention job.
  const p = await enginePipeline([hook({ name: "app", url: sink.url })], { retention: "1d" });
  /** Posts the storm now; answers how many events it made (they all carry this received_at). */
  const storm = async () => {
    for (const name of FIXTURES) for (let i = 0; i < COPIES; i++) await p.post(fixture(name).payload);
    await p.processAll();
    await p.dispatcher.drain();
    await p.dispatcher.flush();
    return p.count("SELECT count(*) n FROM events WHERE received_at = ?", p.clock.now());
  };
  const perPass = await eventsOfOnePass();
  expect(await storm()).toBe(perPass);

  p.clock.advance(7 * DAY);
  await p.retention(); // old events go (retention 1d); their dedup keys stay 8 days
  expect(await storm()).toBe(0); // Meta may still retry within 7 days: nothing new

  // A key lives 8 days from when it was last seen (the day-7 storm saw them all again).
  p.clock.advance(9 * DAY);
  await p.retention();
  const newEvents = await storm();
  expect(newEvents).toBe(perPass);
  expect(await p.count("SELECT count(*) n FROM deliveries WHERE created_at = ?", p.clock.now())).toBe(perPass);
  report("duplicate storm after retention", { per_pass: perPass, after_7_days_new: 0, after_9_more_days_new: newEvents });
});
