-- Sessions a user can see and end: a public id (random, unrelated to the token, whose digest
-- stays the key), the client address and the method each was opened with, and its last use
-- (written in batches, at most once a minute per session). Sessions opened before this
-- migration get an id of their own and count as password sign-ins (the only kind there was).
-- SQLite adds no NOT NULL column without a default: the table is rebuilt.
CREATE TABLE sessions_new (
    token_hash      BLOB PRIMARY KEY,
    id              TEXT NOT NULL,
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    created_from    TEXT,
    method          TEXT NOT NULL DEFAULT 'password',
    last_used_at    TIMESTAMP,
    last_used_from  TEXT
);
INSERT INTO sessions_new (token_hash, id, account_id, user_id, created_at, expires_at)
    SELECT token_hash, lower(hex(randomblob(16))), account_id, user_id, created_at, expires_at
    FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE UNIQUE INDEX sessions_id_key ON sessions (id);
-- A user's sessions, newest first (the listing's order).
CREATE INDEX sessions_user_created_idx ON sessions (user_id, created_at DESC, id DESC);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
