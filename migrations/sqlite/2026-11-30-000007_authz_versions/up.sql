-- Authorization versions per account, replacing the single `authz_epoch` row. A change that
-- can alter a decision in an account stamps that account's row with the next version (the
-- largest so far plus one: SQLite has one writer at a time, so versions follow commit order);
-- instances poll for versions they have not seen and evict what they cached for those
-- accounts only.
CREATE TABLE authz_versions (
    account_id BIGINT PRIMARY KEY,
    version    BIGINT NOT NULL
);
CREATE INDEX authz_versions_by_version ON authz_versions (version);
DROP TABLE authz_epoch;
