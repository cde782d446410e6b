-- The hooks the daemon runs, rewritten at each start and reload (store/daemon-hooks-store.ts):
-- operator commands in another process read them, so `replay --config other.toml`
-- cannot queue deliveries for a hook no daemon sends to. A delivery whose hook is not
-- here is "orphaned": listed and counted as such, and cancelled or moved by the operator.
CREATE TABLE daemon_hooks (
  name             TEXT PRIMARY KEY,
  position         INTEGER NOT NULL, -- the order of [[hooks]] in the config
  events           TEXT NOT NULL,   -- JSON array of type globs, as configured
  phone_number_ids TEXT NOT NULL,   -- JSON array; [] = every number
  recorded_at      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- A new delivery state, 'cancelled' (an orphaned delivery the operator gave up): finished
-- like 'done', so it leaves the open counts of 0010 and retention deletes it.
DROP TRIGGER delivery_counts_insert;
DROP TRIGGER delivery_counts_leave;
DROP TRIGGER delivery_counts_enter;
DROP TRIGGER delivery_counts_delete;
CREATE TRIGGER delivery_counts_insert AFTER INSERT ON deliveries WHEN new.state NOT IN ('done', 'cancelled') BEGIN
  INSERT INTO delivery_counts VALUES (new.hook, new.state, 1) ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER delivery_counts_leave AFTER UPDATE OF state ON deliveries WHEN old.state <> new.state AND old.state NOT IN ('done', 'cancelled') BEGIN
  UPDATE delivery_counts SET n = n - 1 WHERE hook = old.hook AND state = old.state;
END;
CREATE TRIGGER delivery_counts_enter AFTER UPDATE OF state ON deliveries WHEN old.state <> new.state AND new.state NOT IN ('done', 'cancelled') BEGIN
  INSERT INTO delivery_counts VALUES (new.hook, new.state, 1) ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER delivery_counts_delete AFTER DELETE ON deliveries WHEN old.state NOT IN ('done', 'cancelled') BEGIN
  UPDATE delivery_counts SET n = n - 1 WHERE hook = old.hook AND state = old.state;
END;
