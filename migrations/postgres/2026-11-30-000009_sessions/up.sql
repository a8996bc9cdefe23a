-- Sessions a user can see and end: a public id (random, unrelated to the token, whose digest
-- stays the key), the client address and the method each was opened with, and its last use
-- (written in batches, at most once a minute per session). Sessions opened before this
-- migration get an id of their own and count as password sign-ins (the only kind there was).
ALTER TABLE sessions ADD COLUMN id TEXT;
UPDATE sessions SET id = replace(gen_random_uuid()::text, '-', '');
ALTER TABLE sessions ALTER COLUMN id SET NOT NULL;
CREATE UNIQUE INDEX sessions_id_key ON sessions (id);
ALTER TABLE sessions ADD COLUMN created_from TEXT;
ALTER TABLE sessions ADD COLUMN method TEXT NOT NULL DEFAULT 'password';
ALTER TABLE sessions ADD COLUMN last_used_at TIMESTAMP;
ALTER TABLE sessions ADD COLUMN last_used_from TEXT;
-- A user's sessions, newest first (the listing's order), replacing the index on user_id alone.
DROP INDEX sessions_user_id_idx;
CREATE INDEX sessions_user_created_idx ON sessions (user_id, created_at DESC, id DESC);
