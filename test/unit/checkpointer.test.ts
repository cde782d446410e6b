/**
 * The checkpoint thread on a real WAL database: a checkpoint is said (debug) when the WAL
 * changed since the last tick, not every second about the frames an idle WAL keeps.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { openDatabase } from "../../src/store/db";
import { startCheckpointer } from "../../src/store/checkpointer";
import { createLogger } from "../../src/util/log";
import { tempDir } from "../support/daemon";

test("an idle WAL is checkpointed in silence; a commit is said once", async () => {
  const path = join(tempDir(), "wa.db");
  const db = openDatabase(path, { synchronous: "full", busyTimeoutMs: 1000, autoCheckpoint: false });
  db.run("CREATE TABLE t (x INTEGER)");
  db.run("INSERT INTO t VALUES (1)");
  const lines: string[] = [];
  const checkpointer = startCheckpointer(path, "full", createLogger("debug", (line) => lines.push(line)));
  const said = () => lines.filter((l) => l.includes('"msg":"wal checkpoint"')).length;
  try {
    await Bun.sleep(3_500); // three ticks or more
    expect(said()).toBe(1);
    db.run("INSERT INTO t VALUES (2)");
    await Bun.sleep(1_500);
    expect(said()).toBe(2);
  } finally {
    await checkpointer.stop();
    db.close();
  }
}, 15_000);
