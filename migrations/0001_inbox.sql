-- The inbox: every signed webhook POST, byte for byte, committed before Meta gets its 200.
CREATE TABLE inbox (
  id            INTEGER PRIMARY KEY,
  received_at   INTEGER NOT NULL,               -- unix epoch milliseconds
  body          BLOB    NOT NULL,               -- raw request body, exactly as signed
  signature     TEXT    NOT NULL,               -- X-Hub-Signature-256 as received
  user_agent    TEXT,
  remote_addr   TEXT,                           -- peer address of the TCP connection
  forwarded_for TEXT,                           -- X-Forwarded-For as received (set by the proxy)
  parseable     INTEGER NOT NULL CHECK (parseable IN (0, 1))  -- 0: signed but not JSON
) STRICT;

-- One row, rewritten by /readyz to prove the database still accepts writes.
CREATE TABLE health_probe (
  id        INTEGER PRIMARY KEY CHECK (id = 1),
  probed_at INTEGER NOT NULL
) STRICT;
