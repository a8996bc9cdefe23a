ALTER TABLE accounts DROP COLUMN max_key_lifetime_days;
ALTER TABLE service_keys DROP COLUMN expires_at;
ALTER TABLE service_keys DROP COLUMN not_before;
ALTER TABLE access_keys DROP COLUMN expires_at;
ALTER TABLE access_keys DROP COLUMN not_before;
