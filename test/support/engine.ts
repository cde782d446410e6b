/**
 * The storage engine the reliability suite runs against: SQLite (default) or PostgreSQL
 * with WA_TEST_ENGINE=postgres (`make reliability ENGINE=postgres`). Everything a case
 * needs that differs by engine is here, so the case itself is written once:
 *
 * - `daemonConfigs`: the configs of the daemon(s) of a case. SQLite: one daemon on a file
 *   (writeConfig, unchanged). PostgreSQL: each case a fresh database (test/support/postgres.ts,
 *   dropped when the file ends), one config per instance sharing it, each its own
 *   `server.instance`, so a restart under the same config is the same instance.
 * - `StateReader`: what a case reads of the stored state, by SQL that both schemas answer
 *   alike (the tables and columns are the same; PostgreSQL's booleans and bigints are
 *   normalized by the caller with Number()): the SQLite file read-only, or the database.
 * - `enginePipeline`: the worker's pieces in process, on an injected clock, on either engine.
 * - `sqliteOnly(reason)`: a case that is SQLite's by nature runs on SQLite and is skipped
 *   on PostgreSQL with the reason in its name.
 * - `cleanUpAfterAll()`: each file calls it once, so its databases are dropped after it.
 */
import { SQL } from "bun";
import { Database } from "bun:sqlite";
import { afterAll, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { parseDuration } from "../../src/config/duration";
import type { Hook, HookRoute } from "../../src/config/schema";
import { hookFilter } from "../../src/events/hook-filter";
import { Dispatcher } from "../../src/forward/dispatcher";
import { postgresAdminQueries } from "../../src/store/postgres/admin-queries";
import { postgresDispatch } from "../../src/store/postgres/dispatch-engine";
import { postgresRetentionJob } from "../../src/sweeper/retention-postgres";
import { tempDir, writeConfig, type WriteConfigOptions } from "./daemon";
import { pipeline, quiet, type TestClock } from "./pipeline";
import { dropDatabases, freshDatabase, migratedDatabase } from "./postgres";
import { postgresPipeline } from "./postgres-pipeline";
import { replayEvents } from "../../src/store/requeue-store";
import type { ReplayRequest } from "../../src/domain/replay";

export type Engine = "sqlite" | "postgres";
export const ENGINE: Engine = process.env.WA_TEST_ENGINE === "postgres" ? "postgres" : "sqlite";
export const ON_POSTGRES = ENGINE === "postgres";

/** A case SQLite's by nature: run on SQLite as ever; on PostgreSQL skipped, the reason in its name. */
export function sqliteOnly(reason: string) {
  return (name: string, fn: () => Promise<void> | void, timeout?: number) =>
    ON_POSTGRES ? test.skip(`${name} [skipped on postgres: ${reason}]`, fn, timeout) : test(name, fn, timeout);
}

/** The stored state of a case's daemon(s), read-only, by SQL both engines answer alike. */
export interface StateReader {
  readonly engine: Engine;
  /** `SELECT … n`: the first row's `n`, as a number. */
  count(query: string): Promise<number>;
  all<T = Record<string, unknown>>(query: string): Promise<T[]>;
  /** The database's size on disk in bytes (SQLite: the file and its WAL). */
  bytes(): Promise<number>;
  close(): Promise<void>;
}

const open = new Set<StateReader>();

/**
 * Call at the top of a test file that uses this module: after the file, the readers still
 * open are closed and the PostgreSQL databases it made are dropped. (A hook registered by a
 * support module itself runs after the first file of a run only.)
 */
export function cleanUpAfterAll() {
  afterAll(async () => {
    for (const r of [...open]) await r.close();
    await dropDatabases();
  });
}

const fileSize = (path: string) => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

/** The SQLite file, opened read-only at the first query (the daemon creates it when it starts). */
export function sqliteReader(dbPath: string): StateReader {
  let db: Database | null = null;
  const get = () => (db ??= new Database(dbPath, { readonly: true }));
  const reader: StateReader = {
    engine: "sqlite",
    count: async (query) => get().query<{ n: number }, []>(query).get()!.n,
    all: async <T>(query: string) => get().query<T, []>(query).all(),
    bytes: async () => fileSize(dbPath) + fileSize(`${dbPath}-wal`),
    close: async () => {
      open.delete(reader);
      db?.close();
      db = null;
    },
  };
  open.add(reader);
  return reader;
}

export function postgresReader(url: string): StateReader {
  const sql = new SQL(url, { max: 2 });
  let closed = false;
  const reader: StateReader = {
    engine: "postgres",
    count: async (query) => Number((await sql.unsafe(query))[0].n),
    all: async <T>(query: string) => [...(await sql.unsafe(query))] as T[],
    bytes: async () => Number((await sql`SELECT pg_database_size(current_database()) AS n`)[0].n),
    close: async () => {
      open.delete(reader);
      if (closed) return;
      closed = true;
      await sql.close();
    },
  };
  open.add(reader);
  return reader;
}

export interface DaemonConfigs {
  /** One config per instance; SQLite has one daemon whatever was asked. */
  configs: string[];
  /** The SQLite file, or null on PostgreSQL. */
  dbPath: string | null;
  /** The PostgreSQL database's URL, or null on SQLite. */
  url: string | null;
  store: StateReader;
}

/**
 * The config(s) of a case's daemon(s) on the engine under test. `instances` matters on
 * PostgreSQL only: that many configs on one database, instances "wa-1", "wa-2", … (each in
 * a directory of its own); SQLite gets one daemon on `storagePath` (default: `dir`/data/wa.db).
 */
export async function daemonConfigs(extra: WriteConfigOptions = {}, opts: { dir?: string; instances?: number } = {}): Promise<DaemonConfigs> {
  const dir = opts.dir ?? tempDir();
  if (!ON_POSTGRES) {
    const dbPath = extra.storagePath ?? join(dir, "data/wa.db");
    return { configs: [writeConfig(dir, { ...extra, storagePath: dbPath })], dbPath, url: null, store: sqliteReader(dbPath) };
  }
  const url = await freshDatabase();
  const configs = Array.from({ length: opts.instances ?? 1 }, (_, i) =>
    writeConfig(i === 0 ? dir : tempDir(), {
      ...extra,
      storagePath: undefined,
      storage: `engine = "postgres"\nurl = "${url}"\npool = 8`,
      server: `${extra.server ?? ""}\ninstance = "wa-${i + 1}"`,
    }),
  );
  return { configs, dbPath: null, url, store: postgresReader(url) };
}

/**
 * The worker's processing and dispatch in process, on an injected clock, on the engine
 * under test: SQLite through test/support/pipeline.ts as ever, PostgreSQL on a fresh
 * migrated database (its processing engine, dispatch engine and retention job).
 */
export async function enginePipeline(hooks: Hook[], opts: { retention?: string } = {}) {
  if (!ON_POSTGRES) {
    const p = pipeline(hooks, { retention: opts.retention });
    return {
      engine: ENGINE,
      clock: p.clock as TestClock,
      dispatcher: p.dispatcher,
      post: async (body: unknown) => void p.post(body),
      /** Processes until nothing is pending. */
      processAll: async () => {
        while ((await p.processor.runOnce()).jobs > 0);
      },
      /** `?` placeholders. */
      count: async (query: string, ...args: (string | number)[]) => p.count(query, ...args),
      retention: async () => void (await p.sweeper.jobs.run("retention")),
      replay: async (routes: readonly HookRoute[], request: ReplayRequest) => replayEvents(p.db, routes, request, p.clock.now()).queued,
    };
  }
  const { sql } = await migratedDatabase(8);
  const p = await postgresPipeline(sql, hooks);
  const dispatcher = new Dispatcher(postgresDispatch(sql), { instance: "test", hooks, clock: p.clock, log: quiet, random: () => 1 });
  const retention = postgresRetentionJob(sql, parseDuration(opts.retention ?? "30d")!, 1000, p.clock);
  const admin = postgresAdminQueries(sql);
  return {
    engine: ENGINE,
    clock: p.clock,
    dispatcher,
    post: async (body: unknown) => void (await p.post(body)),
    processAll: async () => {
      while ((await p.processor.runOnce()).jobs > 0);
    },
    count: async (query: string, ...args: (string | number)[]) => {
      let i = 0;
      return Number((await sql.unsafe(query.replace(/\?/g, () => `$${++i}`), args))[0].n);
    },
    retention: async () => void (await retention()),
    /**
     * Replaying a time range at once (`replay --since`) is not on this engine yet; each
     * event of the range is replayed by id, as `POST /v1/events/{id}/replay` does.
     */
    replay: async (routes: readonly HookRoute[], request: ReplayRequest) => {
      const { since, until, eventId, type } = request.selection;
      if (eventId !== null || type !== null) throw new Error("enginePipeline.replay on postgres: a time range only");
      const targets = routes.filter((h) => request.hook === null || h.name === request.hook).map((h) => ({ name: h.name, wants: request.force ? () => true : hookFilter(h) }));
      const ids = await sql`SELECT id FROM events WHERE received_at >= ${since ?? 0} AND received_at < ${until ?? Number.MAX_SAFE_INTEGER} ORDER BY id`;
      const queued: Record<string, number> = {};
      for (const { id } of ids) {
        const got = await admin.replayEvent(id, (t, phone) => targets.filter((h) => h.wants(t, phone)).map((h) => h.name), p.clock.now());
        for (const [hook, n] of Object.entries(got ?? {})) queued[hook] = (queued[hook] ?? 0) + n;
      }
      return queued;
    },
  };
}
