-- Job-state changes (claim, finish, fail) rewrite the whole inbox row, and with the raw
-- body in it a 10 MB webhook cost a 10 MB write and fsync per change, stalling every
-- other webhook's commit behind it. The bodies move to their own table, written once.
CREATE TABLE inbox_bodies (
  inbox_id INTEGER PRIMARY KEY REFERENCES inbox (id),
  body     BLOB NOT NULL                       -- raw request body, exactly as signed
) STRICT;
INSERT INTO inbox_bodies (inbox_id, body) SELECT id, body FROM inbox;
ALTER TABLE inbox DROP COLUMN body;

-- A job whose body holds more events than one worker pass may process (Meta batches
-- up to 1,000 updates; a body may be far larger) is processed over several passes,
-- keeping its lease: how many of its normalized events are already stored.
CREATE TABLE job_progress (
  inbox_id INTEGER PRIMARY KEY REFERENCES inbox (id),
  progress INTEGER NOT NULL
) STRICT;
