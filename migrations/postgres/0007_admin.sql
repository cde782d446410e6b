-- The admin API on PostgreSQL: which hooks each instance runs, and the erasure's mark.

-- The hooks each instance runs (its config's [[hooks]]), rewritten at its start and at
-- each reload (store/postgres/instance-hooks.ts). Instances may run different lists
-- during a rolling reload: a hook is run while any live instance (0002's instances,
-- renewed within 30 s) runs it, and only then are its open deliveries sent. A delivery
-- whose hook no live instance runs is "orphaned" (listed, counted, cancelled or moved
-- by the operator), as on SQLite with its one daemon's daemon_hooks.
CREATE TABLE instance_hooks (
  instance         text    NOT NULL,
  name             text    NOT NULL,
  position         integer NOT NULL,         -- the order of [[hooks]] in that instance's config
  events           text    NOT NULL,         -- JSON array of type globs, as configured
  phone_number_ids text    NOT NULL,         -- JSON array; [] = every number
  recorded_at      bigint  NOT NULL,
  PRIMARY KEY (instance, name)
);

-- When a person was erased from the webhook's body (DELETE /v1/contacts/{wa_id}): its
-- signature no longer matches it. As SQLite's inbox.rewritten_at.
ALTER TABLE inbox ADD COLUMN rewritten_at bigint;
