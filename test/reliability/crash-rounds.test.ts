/**
 * Case 1: kill -9 at random moments during bursts of signed POSTs at 50 connections,
 * round after round, with a hook and SMS fallback on short deadlines. Afterwards:
 * every acknowledged POST is stored exactly once, every event reached the hook, the
 * hook saw exactly one webhook-id per event, the database passes integrity_check, and
 * no SMS went out under two keys or was recorded twice.
 *
 * On PostgreSQL (WA_TEST_ENGINE=postgres) two instances share the database and take the
 * load half each; one of them is killed each round and restarted under its name, the
 * other serves on. Not there: SMS fallback (not on that engine yet; the config refuses
 * it) and integrity_check (SQLite's PRAGMA; PostgreSQL's foreign keys hold the references).
 */
import { beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { requireBinary, startDaemon, tempDir, waitFor, type Daemon } from "../support/daemon";
import { cleanUpAfterAll, daemonConfigs, ON_POSTGRES } from "../support/engine";
import { fastFallbackToml, hookToml } from "../support/pipeline";
import { Sink } from "../support/sink";
import { signedPost, textMessage } from "../support/webhooks";
import { report, size } from "./size";

beforeAll(requireBinary);
cleanUpAfterAll(); // PostgreSQL: the databases of this file dropped after it

const ROUNDS = size(3, 10);
const POSTS_PER_ROUND = size(1_500, 10_000);
const CONNECTIONS = 50;
const PERSON = "16505551234";

const sentStatus = (wamid: string) =>
  JSON.stringify({
    object: "whatsapp_business_account",
    entry: [{ id: "102290129340398", changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata: { display_phone_number: "15550783881", phone_number_id: "106540352242922" }, statuses: [{ id: wamid, status: "sent", timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: PERSON, pricing: { billable: true, pricing_model: "PMP", category: "utility", type: "regular" } }] } }] }],
  });

/**
 * POSTs until `total` were tried or the daemon is killed after `killAfter` acknowledgements of this round; those go into `acked`.
 * With `beside` (another instance on the same PostgreSQL database), every other connection posts to it; it is not killed.
 */
async function burstUntilKilled(daemon: Daemon, round: number, total: number, killAfter: number, acked: string[], beside: Daemon | null = null) {
  let next = 0;
  let killed = false;
  const ackedBefore = acked.length;
  const loop = async (connection: number) => {
    const target = beside && connection % 2 === 1 ? beside : daemon;
    while (next < total) {
      const n = next++;
      const body = n % 4 === 3 ? sentStatus(`wamid.OUT.${round}.${n}`) : textMessage(`wamid.IN.${round}.${n}`);
      try {
        if ((await signedPost(`${target.url}/webhook`, body)).status === 200) acked.push(body);
      } catch {
        // the connection died with the daemon: never acknowledged
      }
      if (!killed && acked.length - ackedBefore >= killAfter) {
        killed = true;
        daemon.proc.kill("SIGKILL");
      }
      if (killed) return;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => loop(i)));
  if (!killed) daemon.proc.kill("SIGKILL");
  await daemon.proc.exited;
}

const ON_PG = ON_POSTGRES ? " (postgres: one of two instances killed each round)" : "";

test(`kill -9 in ${ROUNDS} rounds of up to ${POSTS_PER_ROUND} POSTs at ${CONNECTIONS} connections: nothing lost, nothing doubled${ON_PG}`, async () => {
  const hook = new Sink().start();
  const sms = new Sink().start();
  const dir = tempDir();
  const dbPath = join(dir, "data/wa.db");
  const fallbackToml = fastFallbackToml(
    `http://127.0.0.1:${sms.port}/sms`,
    // No delivered status ever comes here: the outage guard would (rightly) hold every SMS.
    'not_after = "1h"\nmax_stale_ratio = 1.0\ndefault_text = "We could not reach you on WhatsApp: please check the app."',
    'body = { to = "+{{to}}", text = "{{text}}", ref = "{{wamid}}" }\nretry_schedule = ["1s"]',
  );
  const toml = `${hookToml(hook.url, "app", 'retry_schedule = ["1s"]')}${fallbackToml}`;
  const { configs, store } = await daemonConfigs({ storagePath: dbPath, toml }, { dir, instances: 2 });
  const config = configs[0]!;
  const acked: string[] = [];
  const started = performance.now();
  // PostgreSQL: a second instance serves beside the one killed, from start to end.
  const beside = configs[1] ? await startDaemon(configs[1]) : null;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const daemon = await startDaemon(config);
      const killAfter = Math.floor(POSTS_PER_ROUND * (0.1 + Math.random() * 0.8));
      await burstUntilKilled(daemon, round, POSTS_PER_ROUND, killAfter, acked, beside);
    }
    // A last, clean run lets every event, delivery and SMS finish.
    const daemon = await startDaemon(config);
    const outstanding = () =>
      store.count(
        `SELECT (SELECT count(*) FROM inbox WHERE state <> 'done') + (SELECT count(*) FROM deliveries WHERE state <> 'done')
           + (SELECT count(*) FROM tracked_messages WHERE state IN ('tracked', 'stale', 'fallback_pending', 'sending'))
           + (SELECT count(*) FROM fallback_sends WHERE state <> 'sent') n`,
      );
    await waitFor(async () => (await outstanding()) === 0, size(60_000, 300_000)).catch(async (err) => {
      const states = (table: string) => store.all<{ state: string; n: number }>(`SELECT state, count(*) n FROM ${table} GROUP BY state`);
      console.log("outstanding", { inbox: await states("inbox"), deliveries: await states("deliveries"), tracked: await states("tracked_messages"), sms: await states("fallback_sends") });
      for (const d of [daemon, beside]) if (d) console.log("last run's daemon", { exit_code: d.proc.exitCode, warnings: d.lines.filter((l) => !l.includes('"level":"info"') && !l.includes('"level":"debug"')).slice(-40) });
      throw err;
    });

    // Every acknowledged POST is stored, exactly once.
    const stored = new Map<string, number>();
    for (const r of await store.all<{ body: Uint8Array }>("SELECT body FROM inbox_bodies")) {
      const text = new TextDecoder().decode(r.body);
      stored.set(text, (stored.get(text) ?? 0) + 1);
    }
    expect(acked.filter((b) => stored.get(b) !== 1)).toEqual([]);
    // Every event reached the hook; one webhook-id per event at the hook.
    const events = (await store.all<{ id: string }>("SELECT id FROM events")).map((e) => e.id);
    const ids = new Set(hook.received.map((r) => r.headers["webhook-id"]));
    expect(events.filter((id) => !ids.has(id))).toEqual([]);
    expect(ids.size).toBe(events.length);
    // SMS: one row per outbound message that went stale, sent once; one Idempotency-Key per wamid.
    const keysByRef = new Map<string, Set<string>>();
    for (const r of sms.received) {
      const ref = JSON.parse(r.body).ref as string;
      keysByRef.set(ref, (keysByRef.get(ref) ?? new Set()).add(r.headers["idempotency-key"]!));
    }
    const sendRows = await store.count("SELECT count(*) n FROM fallback_sends WHERE state = 'sent'");
    expect([...keysByRef.values()].filter((k) => k.size !== 1)).toEqual([]);
    expect(keysByRef.size).toBe(sendRows);
    const tracked = Object.fromEntries((await store.all<{ state: string; n: number }>("SELECT state, count(*) n FROM tracked_messages GROUP BY state")).map((r) => [r.state, r.n]));
    // integrity_check is SQLite's; on PostgreSQL the schema's foreign keys hold events to their webhooks and deliveries to their events.
    const integrity = ON_POSTGRES ? "n/a (postgres)" : (await store.all<{ integrity_check: string }>("PRAGMA integrity_check"))[0]!.integrity_check;
    if (!ON_POSTGRES) expect(integrity).toBe("ok");
    await store.close();
    expect(await daemon.stop()).toBe(0);
    if (beside) expect(await beside.stop()).toBe(0);
    report("kill -9 rounds", {
      rounds: ROUNDS,
      ...(ON_POSTGRES ? { instances: configs.length } : {}),
      acknowledged: acked.length,
      stored_rows: [...stored.values()].reduce((a, b) => a + b, 0),
      events: events.length,
      hook_requests: hook.received.length,
      hook_redeliveries: hook.received.length - ids.size,
      tracked,
      sms: sendRows,
      sms_http_resends: sms.received.length - sendRows,
      integrity,
      seconds: Math.round((performance.now() - started) / 100) / 10,
    });
  } finally {
    beside?.proc.kill();
    hook.stop();
    sms.stop();
  }
}, size(120_000, 900_000));
