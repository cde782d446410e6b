-- Operator alerts (template paused, quality drop, account restricted, fallback held,
-- SMS provider failing, hook dead): one row per occurrence (dedup_key), sent to
-- [alerts] url with retries like a hook delivery.
CREATE TABLE alerts (
  id              INTEGER PRIMARY KEY,
  kind            TEXT NOT NULL,             -- alerts/kinds.ts
  dedup_key       TEXT NOT NULL UNIQUE,      -- one alert per occurrence, however often it is reported
  severity        TEXT NOT NULL,             -- critical | warning
  title           TEXT NOT NULL,
  text            TEXT NOT NULL,             -- for a person: what happened, what to do
  data            TEXT NOT NULL,             -- JSON: the facts (ids, names, codes); no phone numbers of people
  state           TEXT NOT NULL,             -- pending | sending | sent | dead | recorded (not sent: no url, or kind not wanted)
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_token     TEXT,
  lease_until     INTEGER,
  last_status     INTEGER,
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  sent_at         INTEGER,
  updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX alerts_due ON alerts (state, next_attempt_at);
CREATE INDEX alerts_by_time ON alerts (created_at);

-- Retention (sweeper/retention.ts) deletes old inbox rows once no event points at
-- them; each delete checks events' foreign key, which needs this index.
CREATE INDEX events_by_inbox ON events (inbox_id);
