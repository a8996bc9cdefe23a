DROP INDEX sessions_user_created_idx;
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
ALTER TABLE sessions DROP COLUMN last_used_from;
ALTER TABLE sessions DROP COLUMN last_used_at;
ALTER TABLE sessions DROP COLUMN method;
ALTER TABLE sessions DROP COLUMN created_from;
DROP INDEX sessions_id_key;
ALTER TABLE sessions DROP COLUMN id;
