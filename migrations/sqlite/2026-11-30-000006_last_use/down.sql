ALTER TABLE users DROP COLUMN last_sign_in_from;
ALTER TABLE users DROP COLUMN last_sign_in_at;
ALTER TABLE access_keys DROP COLUMN last_used_from;
ALTER TABLE service_keys DROP COLUMN last_used_from;
ALTER TABLE service_keys DROP COLUMN last_used_at;
