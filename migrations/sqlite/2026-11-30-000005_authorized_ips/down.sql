ALTER TABLE service_keys DROP COLUMN allowed_ips;
ALTER TABLE access_keys DROP COLUMN allowed_ips;
DROP TABLE authorized_ips;
