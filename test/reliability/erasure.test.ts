/**
 * Case 11: erasing a person from a big file (issue 18, item 11). No index can find a
 * number inside free text, so the erasure walks every webhook body and event envelope,
 * a step at a time, giving way to the webhooks that arrive meanwhile. The file is
 * filled before the daemon starts (someone else's 100 KB messages, one quoting the
 * number); webhooks keep arriving at 40/s during the erasure. It answers however
 * long it takes (past `server.idle_timeout`), it finds the one quoting message, and
 * ack p99 during it stays near the baseline measured just before (the slowest 2-s
 * slice of each).
 */
import { beforeAll, expect, test } from "bun:test";
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { runLoad } from "../../bench/loadgen";
import { signedRequest } from "../../bench/payloads";
import { openDatabase } from "../../src/store/db";
import { storeWebhooks } from "../support/inbox";
import { migrate } from "../../src/store/migrate";
import { requireBinary, SECRETS, startDaemon, stopAfterEach, tempDir, writeConfig } from "../support/daemon";
import { ADMIN, PERSON } from "../support/filled";
import { textMessage } from "../support/webhooks";
import { sqliteOnly } from "../support/engine";
import { FULL, report, size } from "./size";

beforeAll(requireBinary);
const { daemons } = stopAfterEach();

const BODIES = size(300, 10_000);
const RATE = 40;
const OTHER = "447700900123";

// SQLite only: the case fills the SQLite file before the daemon starts, to reach its size; PostgreSQL's erasure has its own tests.
sqliteOnly("the case fills the SQLite file directly to reach its size; PostgreSQL's erasure is covered by test/unit/postgres-erasure.test.ts and the cluster comparison")(`erasure walks ${BODIES} webhooks of 100 KB while webhooks arrive: it answers, finds the mention, acks unaffected`, async () => {
  const dir = tempDir();
  const dbPath = join(dir, "data/wa.db");
  fill(dbPath);
  const daemon = await startDaemon(writeConfig(dir, { storagePath: dbPath, server: 'idle_timeout = "1s"', toml: "[worker]\nenabled = false\n" }));
  daemons.push(daemon);
  let n = 0;
  /** The slowest slice's ack p99, slices of 2 s at RATE, until `until` says stop. */
  const acks = async (until: () => boolean) => {
    const slices = [];
    do {
      const requests = Array.from({ length: RATE * 2 }, () => signedRequest("127.0.0.1", "/webhook", textMessage(`wamid.DURING${n++}`).replaceAll(PERSON, OTHER), SECRETS[0]!));
      slices.push(await runLoad({ host: "127.0.0.1", port: daemon.port, connections: 4, durationMs: 4_000, rate: RATE, requests }));
    } while (!until());
    return { p99ms: Math.max(...slices.map((r) => r.p99ms)), ok: slices.reduce((a, r) => a + r.ok200, 0), refused: slices.reduce((a, r) => a + r.non2xx + r.errors, 0) };
  };
  let slices = 0;
  const baseline = await acks(() => ++slices === 3);

  let answered = false;
  let tookMs = 0;
  const started = performance.now();
  const erasing = fetch(`${daemon.url}/v1/contacts/${PERSON}`, { method: "DELETE", headers: ADMIN }).finally(() => {
    answered = true;
    tookMs = performance.now() - started;
  });
  const during = await acks(() => answered);
  const res = await erasing;
  const answer = (await res.json()) as { erased: Record<string, number>; reason?: string };
  const fileMiB = statSync(dbPath).size / 1048576;
  await daemon.stop();
  rmSync(dir, { recursive: true });

  report("erasure on a big file", {
    file_mib: Math.round(fileMiB),
    erasure_ms: Math.round(tookMs),
    mib_per_s: Math.round(fileMiB / (tookMs / 1000)),
    ack_p99_ms: { baseline: Math.round(baseline.p99ms), during: Math.round(during.p99ms) },
    acks_during: during.ok,
  });
  expect({ status: res.status, reason: answer.reason }).toEqual({ status: 200, reason: undefined });
  expect(answer.erased).toMatchObject({ webhooks_rewritten: 1, webhooks_deleted: 0 });
  expect(during.refused + baseline.refused).toBe(0);
  expect(during.p99ms).toBeLessThan(Math.max(3 * baseline.p99ms, baseline.p99ms + 50));
  // Bun closes a request idle past server.idle_timeout (1 s, checked every 4 s): this one was not.
  if (FULL) expect(tookMs).toBeGreaterThan(5_000);
}, size(120_000, 600_000));

/** Someone else's messages of 100 KB each, one of them quoting the person's number, stored before the daemon starts. */
function fill(dbPath: string) {
  const db = openDatabase(dbPath, { synchronous: "normal", busyTimeoutMs: 1000, autoCheckpoint: true });
  migrate(db);
  const filler = "x".repeat(100_000);
  for (let start = 0; start < BODIES; start += 100) {
    const records = Array.from({ length: Math.min(100, BODIES - start) }, (_, i) => {
      const body = textMessage(`wamid.BULK${start + i}`, start + i === Math.floor(BODIES / 2) ? "call THEM" : filler)
        .replaceAll(PERSON, OTHER)
        .replace("THEM", PERSON);
      return { body: new TextEncoder().encode(body), signature: `sha256=${"0".repeat(64)}`, userAgent: null, remoteAddr: null, forwardedFor: null, receivedAt: Date.now() };
    });
    storeWebhooks(db, records);
  }
  db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
}
