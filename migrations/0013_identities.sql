-- A person's identities (issue 22): every id a person had (phone numbers changed with a
-- `user_changed_number` system message, business-scoped user ids changed by
-- `user.id_changed`) maps to one person key, so that a lookup or an erasure by any of
-- them finds them all. The person key is the smallest id of the group: the same whatever
-- order the changes arrive in. `current_at`: the newest Meta time at which this id became
-- the person's current one of its kind (0: at an unknown time; NULL: never); the current
-- id of a kind is the one with the newest, so a late, older change cannot undo a newer one.
CREATE TABLE identities (
  id TEXT PRIMARY KEY,
  person TEXT NOT NULL,
  kind TEXT NOT NULL,  -- wa_id | user_id | parent_user_id
  current_at INTEGER
) WITHOUT ROWID;
CREATE INDEX identities_by_person ON identities (person);
