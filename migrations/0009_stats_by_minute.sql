-- Counts per minute for GET /v1/stats, kept in the same transactions as what they
-- count, so the figures of the last hour, day and week are a few thousand small rows
-- to sum instead of a scan of every event (which took seconds at a million events a day).
CREATE TABLE stats_by_minute (
  kind TEXT NOT NULL,       -- event | duplicate | status | failed | billable | delivered
  minute INTEGER NOT NULL,  -- unix ms / 60000: when the webhook was received (delivered: when the hook answered)
  key TEXT NOT NULL,        -- the event type, status, error code, pricing category or hook; '' when none
  n INTEGER NOT NULL,
  PRIMARY KEY (kind, minute, key)
) WITHOUT ROWID;

-- What the database already holds, counted the same way.
INSERT INTO stats_by_minute (kind, minute, key, n)
  SELECT 'event', received_at / 60000, type, count(*) FROM events GROUP BY 2, 3;
INSERT INTO stats_by_minute (kind, minute, key, n)
  SELECT 'status', received_at / 60000, coalesce(json_extract(envelope, '$.data.status'), ''), count(*)
  FROM events WHERE type = 'message.status' GROUP BY 2, 3;
INSERT INTO stats_by_minute (kind, minute, key, n)
  SELECT 'failed', received_at / 60000, coalesce(json_extract(envelope, '$.data.errors[0].code'), ''), count(*)
  FROM events WHERE type = 'message.status' AND json_extract(envelope, '$.data.status') = 'failed' GROUP BY 2, 3;
INSERT INTO stats_by_minute (kind, minute, key, n)
  SELECT 'billable', first_seen_at / 60000, coalesce(json_extract(pricing, '$.category'), ''), count(*)
  FROM outbound_messages WHERE json_extract(pricing, '$.billable') = 1 GROUP BY 2, 3;
INSERT INTO stats_by_minute (kind, minute, key, n)
  SELECT 'duplicate', last_seen / 60000, '', sum(duplicates) FROM dedup_keys WHERE duplicates > 0 GROUP BY 2;
INSERT INTO stats_by_minute (kind, minute, key, n)
  SELECT 'delivered', updated_at / 60000, hook, count(*) FROM deliveries WHERE state = 'done' GROUP BY 2, 3;
