/**
 * The source tree's layers (docs/ARCHITECTURE.md, "Layers"): a module imports only from
 * its own layer or the ones below, so that storage never reaches up into what composes
 * it, and the engine interfaces stay engine-neutral. SQL lives in the engines (store/).
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = join(import.meta.dir, "../../src");

/** Top-level folder → layer; folders not named here (and src/main.ts) compose everything below. */
const LAYERS: Record<string, number> = { util: 0, domain: 0, events: 0, whatsapp: 0, config: 0, engine: 1, store: 2 };
const TOP = 3;

const layerOf = (path: string) => LAYERS[path.split("/")[0]!] ?? TOP;

/** Every import of `files` (path under src/ → source) that reaches a higher layer, as "from → to". */
function upwardImports(files: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  for (const [path, source] of files) {
    for (const m of source.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
      const target = relative(SRC, resolve(SRC, dirname(path), m[1]!));
      if (target.startsWith("..")) continue; // outside src/: migrations' SQL text, package.json
      if (layerOf(target) > layerOf(path)) found.push(`${path} → ${target}`);
    }
  }
  return found;
}

/** SQL statements written outside store/: prepared, queried, run, or as a tagged template. */
function sqlOutsideStore(files: ReadonlyMap<string, string>): string[] {
  const statement = /(?:\.(?:prepare|query|run|exec)(?:<[^()]*>)?\(\s*|\bsql\s*)[`"'](?:SELECT|INSERT|UPDATE|DELETE|PRAGMA|BEGIN|COMMIT|CREATE|ALTER|DROP|WITH|VACUUM|SHOW)\b/;
  return [...files].filter(([path, source]) => !path.startsWith("store/") && statement.test(source)).map(([path]) => path);
}

function sourceTree(): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(SRC, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
    const path = relative(SRC, join(entry.parentPath, entry.name));
    files.set(path, readFileSync(join(SRC, path), "utf8"));
  }
  return files;
}

describe("layers", () => {
  test("the checks see what they look for", () => {
    const files = new Map([
      ["store/queue-store.ts", 'import { Processor } from "../worker/processor";\nimport type { InboxJob } from "../domain/inbox";'],
      ["engine/fallback.ts", 'import type { AlertRow } from "../store/alert-store";'],
      ["worker/loop.ts", 'import { queueStore } from "../store/queue-store";\nconst x = await import("../http/app");'],
      ["domain/inbox.ts", 'import { x } from "../../migrations/0001_inbox.sql";'],
      ["admin/ops.ts", 'db.query("SELECT 1").get();'],
      ["admin/stats.ts", 'db.query<{ n: number }, []>("SELECT count(*) n FROM inbox").get();'],
      ["store/db.ts", 'db.run("PRAGMA foreign_keys = ON");'],
    ]);
    expect(upwardImports(files)).toEqual(["store/queue-store.ts → worker/processor", "engine/fallback.ts → store/alert-store"]);
    expect(sqlOutsideStore(files)).toEqual(["admin/ops.ts", "admin/stats.ts"]);
  });

  test("no module imports from a layer above its own", () => {
    const tree = sourceTree();
    expect(tree.size).toBeGreaterThan(100);
    expect(upwardImports(tree)).toEqual([]);
  });

  test("SQL is written only in the engines (store/)", () => {
    expect(sqlOutsideStore(sourceTree())).toEqual([]);
  });
});
