/** A real SQLite database with the worker's pieces wired to it, for in-process tests. */
import { sqliteDispatch } from "../../src/store/dispatch-engine";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { readdirSync } from "node:fs";
import type { InboxRecord } from "../../src/store/types";
import { statusesPayload } from "./webhooks";
import type { Hook } from "../../src/config/schema";
import { AlertsSchema, FallbackSchema, HookSchema, StorageSchema, SweeperSchema } from "../../src/config/schema";
import { buildSweeper } from "../../src/sweeper/start";
import type { z } from "zod";
import { Dispatcher } from "../../src/forward/dispatcher";
import { openDatabase } from "../../src/store/db";
import { storeWebhooks } from "./inbox";
import { daemonHooksStore } from "../../src/store/daemon-hooks-store";
import { migrate } from "../../src/store/migrate";
import { createLogger, type Logger } from "../../src/util/log";
import { Processor } from "../../src/worker/processor";
import { sqliteProcessing } from "../../src/store/processing-engine";
import { eventIds } from "../../src/store/event-ids";
import type { GiveWay } from "../../src/worker/share";
import { tempDir } from "./daemon";

export const quiet = createLogger("error", () => {});

export class TestClock {
  constructor(public t = Date.parse("2026-11-23T12:00:00Z")) {}
  now = () => this.t;
  advance(ms: number) {
    this.t += ms;
  }
}

export const WHSEC = `whsec_${Buffer.alloc(32, 42).toString("base64")}`;

/** A [[hooks]] table for a daemon's config (lines of `extra` go inside it). */
export const hookToml = (url: string, name = "app", extra = "") => `\n[[hooks]]\nname = "${name}"\nurl = "${url}"\nsecret = "${WHSEC}"\n${extra}`;

/**
 * A [sweeper] that runs every second and an SMS fallback to `smsUrl` for messages stale
 * after 2 s: fallback within seconds, for end-to-end tests. `fallback` and `sms` are more
 * keys of [fallback] and [fallback.sms].
 */
export const fastFallbackToml = (smsUrl: string, fallback = "", sms = "") => `
[sweeper]
schedule = "* * * * * *"
fallback_schedule = "* * * * * *"
[fallback]
enabled = true
stale_after = "2s"
${fallback}
[fallback.sms]
url = "${smsUrl}"
${sms}
`;

export function hook(overrides: Partial<Hook> & { name: string; url: string }): Hook {
  return HookSchema.parse({ secret: WHSEC, ...overrides });
}

/** A clock that moves `stepMs` each time it is read: work "takes time" without sleeping. */
export class TickingClock extends TestClock {
  constructor(public stepMs = 1) {
    super();
  }
  override now = () => (this.t += this.stepMs);
}

export function pipeline(
  hooks: Hook[] = [],
  opts: { open?: (path: string) => Database; maxAttempts?: number; passBudgetMs?: number; clock?: TestClock; fallback?: z.input<typeof FallbackSchema>; alerts?: z.input<typeof AlertsSchema>; retention?: string; giveWay?: GiveWay; batchSize?: number; log?: Logger } = {},
) {
  const path = join(tempDir("wa-pipe-"), "wa.db");
  const db = opts.open?.(path) ?? openDatabase(path, { synchronous: "normal", busyTimeoutMs: 2000, autoCheckpoint: true });
  migrate(db);
  const clock = opts.clock ?? new TestClock();
  // What a daemon does at start: operator commands (retry-dead, replay) go by the hooks it runs.
  daemonHooksStore(db).record(hooks, clock.now());
  // The jobs, the alerter and (with `fallback`) the tracker, on this database and clock; jobs run only when called.
  const sweeper = buildSweeper(
    db,
    {
      fallback: FallbackSchema.parse(opts.fallback ?? {}),
      sweeper: SweeperSchema.parse({ batch_size: opts.batchSize }),
      hooks,
      alerts: AlertsSchema.parse(opts.alerts ?? {}),
      storage: StorageSchema.parse({ retention: opts.retention ?? "30d" }),
    },
    clock,
    opts.log ?? quiet,
    "test",
    opts.giveWay,
  );
  const newProcessor = () =>
    new Processor(sqliteProcessing(db), eventIds(db), { instance: "test", hooks, maxAttempts: opts.maxAttempts ?? 3, batchSize: 100, leaseMs: 60_000, passBudgetMs: opts.passBudgetMs ?? 60_000, clock, log: quiet, tracker: sweeper.tracker, alerter: sweeper.alerter });
  const processor = newProcessor();
  const dispatcher = new Dispatcher(sqliteDispatch(db), {
    instance: "test",
    hooks,
    clock,
    log: opts.log ?? quiet,
    random: () => 1,
    onGivenUp: sweeper.alerter.hookGivenUp,
  });
  const record = (body: unknown) => webhookRecord(body, clock.now());
  const post = (body: unknown) => storeWebhooks(db, [record(body)])[0]!;
  /** Several webhooks in one inbox commit, as the writer thread indexes them. */
  const postMany = (bodies: unknown[]) => storeWebhooks(db, bodies.map(record));
  const count = (sql: string, ...args: (string | number)[]) => (db.query(sql).get(...args) as { n: number }).n;
  return { db, path, clock, processor, dispatcher, post, postMany, count, newProcessor, sweeper };
}

/** A webhook as the inbox stores it (bytes as given, or JSON of an object), received at `now`. */
export function webhookRecord(body: unknown, now: number): InboxRecord {
  return {
    body: body instanceof Uint8Array ? body : new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body)),
    signature: "sha256=" + "0".repeat(64),
    userAgent: null,
    remoteAddr: null,
    forwardedFor: null,
    receivedAt: now,
  };
}

/** Every fixture, then the first seven again (Meta's retries), then statuses of one message in an odd order. */
export function fixtureCorpus(): unknown[] {
  const dir = join(import.meta.dir, "../fixtures/payloads");
  const all = readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => fixture(f.replace(/\.json$/, "")).payload);
  const order = ["read", "sent", "delivered", "failed", "read", "sent"].map((s, i) => statusesPayload({ id: "wamid.ORDER", status: s, timestamp: String(1750000000 + i), recipient_id: "16505551234" }));
  return [...all, ...all.slice(0, 7), ...order];
}

export function fixture(name: string): { payload: unknown } {
  return require(join(import.meta.dir, "../fixtures/payloads", `${name}.json`));
}

export type { Database };
