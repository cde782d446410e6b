-- A job whose body holds more events than one worker pass may process (Meta batches
-- up to 1,000 updates; a body may be far larger) is processed over several passes,
-- keeping its lease. How many of its normalized events are already stored lives in
-- its own small table: updating the inbox row would rewrite the (large) body with it.
CREATE TABLE job_progress (
  inbox_id INTEGER PRIMARY KEY REFERENCES inbox (id),
  progress INTEGER NOT NULL
) STRICT;
