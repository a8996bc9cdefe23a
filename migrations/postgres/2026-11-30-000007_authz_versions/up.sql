-- Authorization versions per account, replacing the single `authz_epoch` row that every change
-- of every account updated (one row lock serialising all tenants). A change that can alter a
-- decision in an account stamps that account's row with the next value of a sequence (which
-- takes no lock other transactions wait for) and NOTIFYs `tessera_authz` with the account id;
-- instances evict what they cached for that account only.
CREATE SEQUENCE authz_version_seq;
CREATE TABLE authz_versions (
    account_id BIGINT PRIMARY KEY,
    version    BIGINT NOT NULL
);
CREATE INDEX authz_versions_by_version ON authz_versions (version);
DROP TABLE authz_epoch;
