-- State judged by Meta's clock. Meta retries for up to 7 days, in no order, so a
-- stale notice can arrive after a newer one. Each tracked value (a template's status
-- or quality, a number's quality, a contact's marketing opt-out or profile name)
-- remembers the time of the notice that set it; an older notice is kept in the history
-- but does not change it. The templates and contacts columns mirror the current values.
CREATE TABLE state_values (
  subject    TEXT NOT NULL,                  -- template | contact | phone_number
  subject_id TEXT NOT NULL,
  attribute  TEXT NOT NULL,                  -- status, quality, category, marketing_opt_out, profile_name, messaging_limit
  value      TEXT,
  at         INTEGER,                        -- unix ms of the notice (Meta's clock); null when it had none
  event_id   TEXT NOT NULL,
  PRIMARY KEY (subject, subject_id, attribute)
) STRICT, WITHOUT ROWID;

-- Every notice, applied or not, in arrival order.
CREATE TABLE state_history (
  id          INTEGER PRIMARY KEY,
  subject     TEXT NOT NULL,
  subject_id  TEXT NOT NULL,
  attribute   TEXT NOT NULL,
  value       TEXT,
  at          INTEGER,
  applied     INTEGER NOT NULL CHECK (applied IN (0, 1)),
  event_id    TEXT NOT NULL,
  received_at INTEGER NOT NULL
) STRICT;
CREATE INDEX state_history_by_subject ON state_history (subject, subject_id, attribute, id);
