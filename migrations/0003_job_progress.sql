-- A job whose body holds more events than one worker pass may process (Meta batches
-- up to 1,000 updates; a body may be far larger) is processed over several passes:
-- `progress` is how many of its normalized events are already stored.
ALTER TABLE inbox ADD COLUMN progress INTEGER NOT NULL DEFAULT 0;
