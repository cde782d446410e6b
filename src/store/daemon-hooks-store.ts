/**
 * The hooks the daemon runs (migration 0011), written at each start and reload. Operator
 * commands run in another process with a config file that may not be the daemon's: they
 * replay to these, and a delivery whose hook is not among them is orphaned.
 */
import type { Database } from "bun:sqlite";
import type { HookRoute } from "../config/schema";

export function daemonHooksStore(db: Database) {
  const clear = db.prepare("DELETE FROM daemon_hooks");
  const insert = db.prepare<unknown, [string, number, string, string, number]>(
    "INSERT INTO daemon_hooks (name, position, events, phone_number_ids, recorded_at) VALUES (?, ?, ?, ?, ?)",
  );
  const all = db.prepare<{ name: string; events: string; phone_number_ids: string }, []>("SELECT name, events, phone_number_ids FROM daemon_hooks ORDER BY position");
  return {
    record(hooks: readonly HookRoute[], now: number) {
      db.transaction(() => {
        clear.run();
        hooks.forEach((h, i) => insert.run(h.name, i, JSON.stringify(h.events), JSON.stringify(h.phone_number_ids), now));
      }).immediate();
    },
    list: (): HookRoute[] => all.all().map((h) => ({ name: h.name, events: JSON.parse(h.events), phone_number_ids: JSON.parse(h.phone_number_ids) })),
  };
}
