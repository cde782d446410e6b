-- The live stream's order (GET /v1/events/stream, `wa-webhookd tail`) on a database that
-- several instances write. Event ids are per-instance ULIDs, and transactions commit out
-- of id order, so "id > the last one sent" would skip an event committed late by
-- another instance. Each event instead records the transaction that stored it, and the
-- stream goes by (tx, id), reading only events whose transaction is older than every
-- transaction still running (pg_snapshot_xmin): those are final, nothing can commit
-- among them any more, so a cursor that moves through them never skips one
-- (store/postgres/event-stream.ts). Writers take no lock for it.
--
-- Rows stored before this migration read tx = 0 (a constant default: no table rewrite)
-- and stream first, by id; new rows get their transaction's id.
ALTER TABLE events ADD COLUMN tx xid8 NOT NULL DEFAULT '0';
ALTER TABLE events ALTER COLUMN tx SET DEFAULT pg_current_xact_id();
CREATE INDEX events_by_stream ON events (tx, id COLLATE "C"); -- "C": the order cursors compare in (code points)
