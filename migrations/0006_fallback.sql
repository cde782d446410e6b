-- migrate: foreign_keys off
-- (events is rebuilt; store/migrate.ts checks every foreign key before committing)

-- Events the daemon raises itself (message.stale, message.fallback) come from no
-- webhook: inbox_id may be null.
CREATE TABLE events_new (
  id           TEXT PRIMARY KEY,
  inbox_id     INTEGER REFERENCES inbox (id),   -- null: raised by the sweeper, not by a webhook
  type         TEXT NOT NULL,
  occurred_at  INTEGER,
  received_at  INTEGER NOT NULL,
  waba_id      TEXT,
  phone_number_id TEXT,
  dedup_key    TEXT NOT NULL,
  envelope     TEXT NOT NULL
) STRICT;
INSERT INTO events_new SELECT id, inbox_id, type, occurred_at, received_at, waba_id, phone_number_id, dedup_key, envelope FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_by_type ON events (type, received_at);

-- SMS fallback (docs/fallback.md). One row per outbound message the sweeper watches;
-- its state only moves forward (sweeper/transitions.ts), each move one transaction.
CREATE TABLE tracked_messages (
  wamid          TEXT PRIMARY KEY,
  recipient      TEXT,                     -- phone number without +, where the SMS goes; null: cannot fall back
  text           TEXT,                     -- the app's SMS text (registration or biz_opaque_callback_data "sms")
  category       TEXT,                     -- pricing category (authentication, utility, marketing, service…)
  stale_after_ms INTEGER,                  -- per-message overrides
  not_after_ms   INTEGER,
  fallback       TEXT NOT NULL DEFAULT 'auto' CHECK (fallback IN ('auto', 'never')),
  sent_at        INTEGER,                  -- Meta's `sent` timestamp (unix ms)
  registered_at  INTEGER,                  -- when the app registered it (POST /v1/outbound)
  delivered_at   INTEGER,                  -- Meta's timestamp of the first proof of delivery
  deadline       INTEGER,                  -- unix ms; the sweep looks at tracked rows past it
  expires_at     INTEGER,                  -- unix ms; past it, never fall back
  state          TEXT NOT NULL,
  reason         TEXT,                     -- stale | failed, once a fallback is decided
  error_code     INTEGER,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX tracked_due ON tracked_messages (deadline) WHERE state = 'tracked';
-- The outage guard counts every message whose deadline fell in one sweep's window.
CREATE INDEX tracked_by_deadline ON tracked_messages (deadline);

-- Every move of a tracked message, for GET /v1/messages/{wamid}.
CREATE TABLE tracked_timeline (
  wamid  TEXT NOT NULL,
  seq    INTEGER NOT NULL,
  state  TEXT NOT NULL,
  at     INTEGER NOT NULL,
  detail TEXT,                             -- JSON
  PRIMARY KEY (wamid, seq)
) STRICT, WITHOUT ROWID;

-- At most one SMS per wamid: the primary key is the guarantee. Claimed with a lease
-- and a token like deliveries; finalized only by the token's holder.
CREATE TABLE fallback_sends (
  wamid           TEXT PRIMARY KEY,
  state           TEXT NOT NULL,           -- pending | sending | sent | failed | unknown | cancelled | shadow
  recipient       TEXT NOT NULL,
  text            TEXT NOT NULL,
  reason          TEXT NOT NULL,
  error_code      INTEGER,
  category        TEXT,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_token     TEXT,
  lease_until     INTEGER,
  provider_status INTEGER,
  provider_response TEXT,                  -- first 1 KiB of the provider's answer
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  sent_at         INTEGER,
  updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX fallback_due ON fallback_sends (state, next_attempt_at);

-- Scheduled jobs: a lease so that a manual run and a scheduled one never overlap
-- (also across processes), and what the last run did.
CREATE TABLE job_runs (
  name             TEXT PRIMARY KEY,
  lease_token      TEXT,
  lease_until      INTEGER,
  last_started_at  INTEGER,
  last_finished_at INTEGER,
  last_result      TEXT,                   -- JSON
  last_error       TEXT,
  runs             INTEGER NOT NULL DEFAULT 0,
  failures         INTEGER NOT NULL DEFAULT 0,
  held_since       INTEGER                 -- stale only: the outage guard holds fallbacks since then
) STRICT, WITHOUT ROWID;
