-- Scheduled jobs run once per schedule across the instances, with no leader: at each fire
-- time every instance's scheduler inserts (job, fire time); the primary key lets one
-- insert through, and that instance runs it. The row says which instance ran what, when,
-- and how it ended. Times are unix ms; fire_at is the schedule's own time (the same on
-- every instance), not a clock reading.
CREATE TABLE scheduled_runs (
  name        text   NOT NULL,
  fire_at     bigint NOT NULL,
  instance    text   NOT NULL,
  started_at  bigint NOT NULL,
  finished_at bigint,
  result      text,                           -- JSON
  error       text,
  PRIMARY KEY (name, fire_at)
);
