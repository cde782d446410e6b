-- The business number a tracked message was sent from (its statuses' metadata), so that
-- the sweeper's message.stale and message.fallback events carry it and reach hooks
-- filtered by `phone_number_ids`. Filled for messages tracked before, from their statuses.
ALTER TABLE tracked_messages ADD COLUMN phone_number_id text;
UPDATE tracked_messages t SET phone_number_id = o.phone_number_id FROM outbound_messages o WHERE o.wamid = t.wamid;
