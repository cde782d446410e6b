/**
 * Case 5: fuzzing. The POST handler of the compiled binary gets thousands of generated
 * requests (fast-check): random bytes, truncated and deeply nested JSON, invalid UTF-8,
 * huge strings, missing, wrong, duplicated and odd-cased signature headers, and chunked
 * bodies cut short. Only 200/400/401/413 come back, the daemon never falls over, its
 * memory stays bounded, and every acknowledged body is stored: a signed body that is
 * not JSON is dead-lettered, never lost. The normalizer is fuzzed directly too: any
 * JSON becomes events (webhook.unknown at worst), never a throw. On PostgreSQL
 * (WA_TEST_ENGINE=postgres) the same requests go to an instance on a fresh database.
 */
import { beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { readFileSync, readdirSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { EVENT_TYPES } from "../../src/events/types";
import { hubSignature } from "../../src/ingest/signature";
import { normalizePayload } from "../../src/whatsapp/normalize";
import { requireBinary, SECRETS, startDaemon, stopAfterEach, tempDir, waitFor, rssMiB } from "../support/daemon";
import { cleanUpAfterAll, daemonConfigs } from "../support/engine";
import { report, size } from "./size";

beforeAll(requireBinary);
cleanUpAfterAll(); // PostgreSQL: the databases of this file dropped after it
const { daemons } = stopAfterEach();

const REQUESTS = size(2_000, 12_000);
const MAX_BODY = 65_536;
const FIXTURES = readdirSync(join(import.meta.dir, "../fixtures/payloads")).map((f) => JSON.stringify(JSON.parse(readFileSync(join(import.meta.dir, "../fixtures/payloads", f), "utf8")).payload));

const bodies = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }),
  fc.tuple(fc.constantFrom(...FIXTURES), fc.nat()).map(([f, n]) => new TextEncoder().encode(f.slice(0, n % (f.length + 1)))),
  fc.integer({ min: 1, max: 40_000 }).map((depth) => new TextEncoder().encode("[".repeat(depth) + "]".repeat(depth % 3 === 0 ? depth : 0))),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, ...b.map((x) => x | 0x80), 0xc3, 0x28, 0x22, 0x7d])),
  fc.integer({ min: MAX_BODY - 16, max: MAX_BODY * 3 }).map((n) => new TextEncoder().encode(JSON.stringify({ entry: [], pad: "x".repeat(n) }))),
  fc.json({ maxDepth: 6 }).map((j) => new TextEncoder().encode(j)),
  fc.constantFrom(...FIXTURES).map((f) => new TextEncoder().encode(f)),
);

type Signing = "none" | "good" | "upper-hex" | "wrong" | "garbage" | "duplicate" | "odd-case" | "other-secret";
const signings = fc.constantFrom<Signing>("none", "good", "upper-hex", "wrong", "garbage", "duplicate", "odd-case", "other-secret");

function headersFor(body: Uint8Array, how: Signing): Headers {
  const h = new Headers({ "content-type": "application/json" });
  const good = hubSignature(body, SECRETS[0]!);
  if (how === "good") h.set("x-hub-signature-256", good);
  if (how === "upper-hex") h.set("x-hub-signature-256", "sha256=" + good.slice(7).toUpperCase());
  if (how === "wrong") h.set("x-hub-signature-256", hubSignature(body, "not-the-secret"));
  if (how === "garbage") h.set("x-hub-signature-256", "sha256=zz" + "0".repeat(62));
  if (how === "duplicate") (h.append("x-hub-signature-256", good), h.append("x-hub-signature-256", good));
  if (how === "odd-case") h.set("X-HUB-Signature-256", good);
  if (how === "other-secret") h.set("x-hub-signature-256", hubSignature(body, SECRETS[1]!));
  return h;
}


/** A chunked body announced, then the connection closed mid-chunk. */
function cutChunked(port: number, signature: string) {
  return new Promise<void>((resolve) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(`POST /webhook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Hub-Signature-256: ${signature}\r\n\r\n400\r\n{"entry":[`);
      setTimeout(() => socket.destroy(), 20);
    });
    socket.on("close", () => resolve());
    socket.on("error", () => resolve());
  });
}

test(`${REQUESTS} generated requests: only 200/400/401/413, no crash, bounded memory, every acknowledged body stored`, async () => {
  const dir = tempDir();
  const dbPath = join(dir, "data/wa.db");
  const { configs, store } = await daemonConfigs({ storagePath: dbPath, maxBodyBytes: MAX_BODY }, { dir });
  const daemon = await startDaemon(configs[0]!);
  daemons.push(daemon);
  const rssStart = rssMiB(daemon.proc.pid);
  const cases = fc.sample(fc.tuple(bodies, signings), { numRuns: REQUESTS, seed: 20261124 });
  const statuses = new Map<number, number>();
  const acknowledged: Uint8Array[] = [];
  let rssPeak = rssStart;
  const started = performance.now();
  for (let i = 0; i < cases.length; i += 25) {
    await Promise.all(
      cases.slice(i, i + 25).map(async ([body, how]) => {
        const res = await fetch(`${daemon.url}/webhook`, { method: "POST", body, headers: headersFor(body, how) });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 200) acknowledged.push(body);
      }),
    );
    if (i % 500 === 0) rssPeak = Math.max(rssPeak, rssMiB(daemon.proc.pid));
  }
  for (let i = 0; i < 50; i++) await cutChunked(daemon.port, hubSignature("x", SECRETS[0]!));
  const seconds = (performance.now() - started) / 1000;

  expect([...statuses.keys()].filter((s) => ![200, 400, 401, 413].includes(s))).toEqual([]);
  expect(statuses.get(200)).toBeGreaterThan(0);
  expect(statuses.get(401)).toBeGreaterThan(0);
  expect(statuses.get(413)).toBeGreaterThan(0);
  expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);
  expect(daemon.proc.exitCode).toBeNull();
  const rssEnd = rssMiB(daemon.proc.pid);
  // Bounded: in-flight bodies are capped (server.max_inflight_bytes); nothing else grows with traffic.
  expect(rssPeak - rssStart).toBeLessThan(256);

  // Every acknowledged body is stored byte for byte; once processed, non-JSON ones are dead, not gone.
  await waitFor(async () => (await store.count("SELECT count(*) n FROM inbox WHERE state IN ('pending', 'processing')")) === 0, 60_000).catch(async (err) => {
    console.log("outstanding", { inbox: await store.all("SELECT state, count(*) n, max(attempts) max_attempts FROM inbox GROUP BY state") });
    console.log("daemon's errors", daemon.lines.filter((l) => !l.includes('"level":"info"') && !l.includes('"level":"debug"')).slice(-20));
    throw err;
  });
  const rows = await store.all<{ body: Uint8Array; parseable: number | boolean; state: string }>("SELECT b.body, i.parseable, i.state FROM inbox i JOIN inbox_bodies b ON b.inbox_id = i.id");
  await store.close();
  const stored = new Set(rows.map((r) => Buffer.from(r.body).toString("base64")));
  expect(acknowledged.filter((b) => !stored.has(Buffer.from(b).toString("base64")))).toHaveLength(0);
  expect(rows.length).toBe(acknowledged.length);
  const unparseable = rows.filter((r) => Number(r.parseable) === 0); // PostgreSQL: a boolean
  expect(unparseable.filter((r) => r.state !== "dead")).toEqual([]);
  report("fuzz POST", {
    requests: cases.length,
    cut_chunked: 50,
    statuses: Object.fromEntries(statuses),
    stored: rows.length,
    dead_lettered: rows.filter((r) => r.state === "dead").length,
    rss_mib: { start: Math.round(rssStart), peak: Math.round(rssPeak), end: Math.round(rssEnd) },
    seconds: Math.round(seconds * 10) / 10,
  });
}, size(120_000, 600_000));

test("the normalizer turns any JSON into known event types and never throws", () => {
  const runs = size(3_000, 50_000);
  const known = new Set<string>(EVENT_TYPES);
  const envelopeish = fc.record({
    object: fc.oneof(fc.constant("whatsapp_business_account"), fc.string()),
    entry: fc.array(fc.record({ id: fc.oneof(fc.string(), fc.integer()), time: fc.anything(), changes: fc.array(fc.record({ field: fc.oneof(fc.constantFrom("messages", "message_template_status_update", "user_preferences", "calls", "account_alerts"), fc.string()), value: fc.anything() }, { requiredKeys: [] })) }, { requiredKeys: [] })),
  }, { requiredKeys: [] });
  fc.assert(
    fc.property(fc.oneof(fc.jsonValue(), envelopeish, fc.anything()), (payload) => {
      const events = normalizePayload(payload);
      return events.length >= 1 && events.every((e) => known.has(e.type));
    }),
    { numRuns: runs, seed: 20261124 },
  );
  report("fuzz normalizer", { payloads: runs });
});
