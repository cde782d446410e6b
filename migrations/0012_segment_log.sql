-- Webhooks are acknowledged once their frames are in the segment log
-- (<storage.path>.segments/, src/ingest/segment-log.ts) and indexed into the inbox behind.
-- How far: a restart indexes exactly what is missing, and never again what retention or
-- an erasure deleted since.
CREATE TABLE inbox_indexed (
  one     INTEGER PRIMARY KEY CHECK (one = 1),
  through INTEGER NOT NULL
) STRICT;
INSERT INTO inbox_indexed VALUES (1, (SELECT coalesce(max(id), 0) FROM inbox));
