-- A person's identities: as SQLite's migrations/0013_identities.sql (every id a person
-- had mapped to one person key, the smallest id of the group; `current_at` the newest
-- Meta time at which the id became the current one of its kind, 0 unknown, NULL never).
CREATE TABLE identities (
  id TEXT PRIMARY KEY,
  person TEXT NOT NULL,
  kind TEXT NOT NULL,
  current_at BIGINT
);
CREATE INDEX identities_by_person ON identities (person);
