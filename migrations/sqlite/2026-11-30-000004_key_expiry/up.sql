-- Key expiry: a key (access key or service key) works from `not_before` until `expires_at`;
-- either may be NULL (open). An account may bound how long its keys live.
ALTER TABLE access_keys ADD COLUMN not_before TIMESTAMP;
ALTER TABLE access_keys ADD COLUMN expires_at TIMESTAMP;
ALTER TABLE service_keys ADD COLUMN not_before TIMESTAMP;
ALTER TABLE service_keys ADD COLUMN expires_at TIMESTAMP;
ALTER TABLE accounts ADD COLUMN max_key_lifetime_days INTEGER;
