-- Authorized IPs: an account's allow and deny entries (canonical network text: the address
-- alone for one address, else network/prefix), evaluated at every authentication; and each
-- key's own allowed networks (comma-separated, canonical; NULL: no condition of its own).
CREATE TABLE authorized_ips (
    account_id   BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    network      TEXT NOT NULL,
    allowed      BOOLEAN NOT NULL,
    description  TEXT,
    created      TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, network)
);
ALTER TABLE access_keys ADD COLUMN allowed_ips TEXT;
ALTER TABLE service_keys ADD COLUMN allowed_ips TEXT;
