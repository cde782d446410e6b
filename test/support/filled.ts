/**
 * A daemon (compiled binary) whose database the real pipeline filled: every fixture
 * webhook signed, POSTed and processed. For the admin API's tests.
 */
import { expect } from "bun:test";
import { Database } from "bun:sqlite";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { startDaemon, tempDir, writeConfig, type Daemon } from "./daemon";
import { fixture } from "./pipeline";
import { signedPost } from "./webhooks";

export const TOKEN = "e2e-admin-token-0123456789";
export const ADMIN = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
export const PERSON = "16505551234"; // the sender and recipient in the fixtures
export const FIXTURES = readdirSync(join(import.meta.dir, "../fixtures/payloads")).map((f) => f.replace(/\.json$/, ""));

/**
 * Waits until `posted` webhooks are in the inbox and none is pending or processing. A 200
 * means the inbox log holds a webhook; its row comes when the writer thread indexes it,
 * so "nothing pending" alone can be seen before the last webhooks are even indexed.
 */
export async function processedAll(dbPath: string, posted: number) {
  const db = new Database(dbPath, { readonly: true });
  try {
    const counts = () => db.query<{ rows: number; open: number }, []>("SELECT count(*) rows, count(*) FILTER (WHERE state IN ('pending', 'processing')) open FROM inbox").get()!;
    for (let i = 0; i < 200; i++) {
      const { rows, open } = counts();
      if (rows >= posted && open === 0) return;
      await Bun.sleep(50);
    }
    throw new Error(`not every webhook was processed: ${JSON.stringify(counts())} of ${posted}`);
  } finally {
    db.close();
  }
}

export type Page = { data: { id: string; type: string; data: Record<string, unknown> }[]; next_cursor: string | null };

export async function filledDaemon(daemons: Daemon[], extraToml = "") {
  const dir = tempDir();
  const dbPath = join(dir, "data/wa.db");
  const config = writeConfig(dir, { storagePath: dbPath, toml: extraToml });
  const daemon = await startDaemon(config);
  daemons.push(daemon);
  const bodies = new Map<string, string>();
  for (const name of FIXTURES) {
    const body = JSON.stringify(fixture(name).payload);
    bodies.set(name, body);
    expect((await signedPost(`${daemon.url}/webhook`, body)).status).toBe(200);
  }
  const get = async (path: string, headers: Record<string, string> = ADMIN) => fetch(`${daemon.url}${path}`, { headers });
  const json = async <T = Page>(path: string) => (await (await get(path)).json()) as T;
  const all = async (query = "") => {
    const seen: Page["data"] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await json(`/v1/events?limit=7${query}${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor);
    return seen;
  };
  await processedAll(dbPath, FIXTURES.length);
  return { daemon, config, dbPath, bodies, get, json, all };
}

