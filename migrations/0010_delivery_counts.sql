-- Open deliveries per hook and state, kept by triggers in the same transaction as
-- every change to `deliveries`, and an index of the open ones by age: GET /v1/stats and
-- /metrics read them on the writer thread, and counting a backlog row by row (a hook
-- down for hours: millions of rows) held every inbox commit behind it.
CREATE TABLE delivery_counts (
  hook TEXT NOT NULL,
  state TEXT NOT NULL,      -- pending | delivering | dead | disabled (done ones are not counted)
  n INTEGER NOT NULL,
  PRIMARY KEY (hook, state)
) WITHOUT ROWID;

INSERT INTO delivery_counts (hook, state, n)
  SELECT hook, state, count(*) FROM deliveries WHERE state <> 'done' GROUP BY hook, state;

CREATE TRIGGER delivery_counts_insert AFTER INSERT ON deliveries WHEN new.state <> 'done' BEGIN
  INSERT INTO delivery_counts (hook, state, n) VALUES (new.hook, new.state, 1)
    ON CONFLICT (hook, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER delivery_counts_leave AFTER UPDATE OF state ON deliveries WHEN old.state <> new.state AND old.state <> 'done' BEGIN
  UPDATE delivery_counts SET n = n - 1 WHERE hook = old.hook AND state = old.state;
END;

CREATE TRIGGER delivery_counts_enter AFTER UPDATE OF state ON deliveries WHEN old.state <> new.state AND new.state <> 'done' BEGIN
  INSERT INTO delivery_counts (hook, state, n) VALUES (new.hook, new.state, 1)
    ON CONFLICT (hook, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER delivery_counts_delete AFTER DELETE ON deliveries WHEN old.state <> 'done' BEGIN
  UPDATE delivery_counts SET n = n - 1 WHERE hook = old.hook AND state = old.state;
END;

CREATE INDEX deliveries_open_by_age ON deliveries (hook, created_at) WHERE state IN ('pending', 'delivering');
