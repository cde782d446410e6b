-- `wa-webhookd migrate-storage`: a copy of a SQLite engine's file into this database,
-- recorded so that an interrupted copy resumes (and only from the same file) and a
-- finished one is not mixed with another.
CREATE TABLE storage_copies (
  source      text   PRIMARY KEY,            -- the SQLite file's absolute path
  started_at  bigint NOT NULL,
  finished_at bigint,
  counts      text                            -- JSON: rows per table, checked on both sides
);
