-- When and from which client address each credential was last used: service keys and access
-- keys (written in batches, at most once a minute per key) and users' password sign-ins
-- (written in the transaction that opens the session).
ALTER TABLE service_keys ADD COLUMN last_used_at TIMESTAMP;
ALTER TABLE service_keys ADD COLUMN last_used_from TEXT;
ALTER TABLE access_keys ADD COLUMN last_used_from TEXT;
ALTER TABLE users ADD COLUMN last_sign_in_at TIMESTAMP;
ALTER TABLE users ADD COLUMN last_sign_in_from TEXT;
