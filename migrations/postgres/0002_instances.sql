-- The instances sharing this database: each names itself (server.instance), proves it is
-- alive every few seconds, and refuses to start while another live instance holds its
-- name. Times are the database's clock (unix ms), so instances' clocks need not agree.
CREATE TABLE instances (
  name       text    PRIMARY KEY,
  token      text    NOT NULL,           -- this run of the instance
  host       text    NOT NULL,
  pid        integer NOT NULL,
  version    text    NOT NULL,
  started_at bigint  NOT NULL,
  seen_at    bigint  NOT NULL
);
