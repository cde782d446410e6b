-- Inbox rows are jobs. A worker claims a batch with a lease and a fresh token,
-- counts the attempt at claim time, and finalizes only while it holds the token.
ALTER TABLE inbox ADD COLUMN state TEXT NOT NULL DEFAULT 'pending';   -- pending | processing | done | dead
ALTER TABLE inbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE inbox ADD COLUMN lease_token TEXT;
ALTER TABLE inbox ADD COLUMN lease_until INTEGER;                      -- unix ms
ALTER TABLE inbox ADD COLUMN last_error TEXT;
ALTER TABLE inbox ADD COLUMN processed_at INTEGER;
CREATE INDEX inbox_queue ON inbox (state, id);

-- One row per normalized event; `envelope` is the JSON sent to hooks, id included.
CREATE TABLE events (
  id           TEXT PRIMARY KEY,            -- evt_<ulid>, stable across retries and replays
  inbox_id     INTEGER NOT NULL REFERENCES inbox (id),
  type         TEXT NOT NULL,
  occurred_at  INTEGER,                     -- unix ms, when it happened (Meta's timestamp)
  received_at  INTEGER NOT NULL,            -- unix ms, when the POST arrived
  waba_id      TEXT,
  phone_number_id TEXT,
  dedup_key    TEXT NOT NULL,
  envelope     TEXT NOT NULL
) STRICT;
CREATE INDEX events_by_type ON events (type, received_at);

-- Seen dedup keys (kept at least 8 days: Meta retries for up to 7).
CREATE TABLE dedup_keys (
  key        TEXT PRIMARY KEY,
  event_id   TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen  INTEGER NOT NULL,
  duplicates INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;

-- One delivery per (event, hook); the backlog lives here, not in memory.
CREATE TABLE deliveries (
  id              INTEGER PRIMARY KEY,
  event_id        TEXT NOT NULL REFERENCES events (id),
  hook            TEXT NOT NULL,
  state           TEXT NOT NULL DEFAULT 'pending',   -- pending | delivering | done | dead | disabled
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_token     TEXT,
  lease_until     INTEGER,
  last_status     INTEGER,
  last_error      TEXT,
  last_response   TEXT,                                -- truncated response body
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  UNIQUE (event_id, hook)
) STRICT;
CREATE INDEX deliveries_due ON deliveries (hook, state, next_attempt_at);

CREATE TABLE contacts (
  wa_id            TEXT PRIMARY KEY,
  profile_name     TEXT,
  last_seen_at     INTEGER,
  marketing_opt_out INTEGER NOT NULL DEFAULT 0,
  updated_at       INTEGER NOT NULL
) STRICT;

CREATE TABLE inbound_messages (
  wamid           TEXT PRIMARY KEY,
  event_id        TEXT NOT NULL,
  phone_number_id TEXT,
  sender          TEXT,
  kind            TEXT NOT NULL,
  sent_at         INTEGER,
  received_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE outbound_messages (
  wamid           TEXT PRIMARY KEY,
  phone_number_id TEXT,
  recipient_id    TEXT,
  status          TEXT NOT NULL,           -- current state: only moves forward (whatsapp/status-order.ts)
  status_at       INTEGER,
  errors          TEXT,                    -- JSON of the latest failure
  pricing         TEXT,                    -- JSON
  biz_opaque_callback_data TEXT,
  first_seen_at   INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
) STRICT;

-- Every status ever received for a wamid, in arrival order, even ones that did not move the state.
CREATE TABLE message_statuses (
  id         INTEGER PRIMARY KEY,
  wamid      TEXT NOT NULL,
  status     TEXT NOT NULL,
  status_at  INTEGER,
  errors     TEXT,
  pricing    TEXT,
  event_id   TEXT NOT NULL,
  received_at INTEGER NOT NULL
) STRICT;
CREATE INDEX message_statuses_by_wamid ON message_statuses (wamid, id);

CREATE TABLE templates (
  template_id TEXT PRIMARY KEY,             -- 16-digit ids, kept as text
  name        TEXT,
  language    TEXT,
  status      TEXT,
  quality     TEXT,
  category    TEXT,
  updated_at  INTEGER NOT NULL
) STRICT;
