CREATE TABLE authz_epoch (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  BIGINT NOT NULL
);
INSERT INTO authz_epoch (id, version) VALUES (1, (SELECT COALESCE(MAX(version), 0) FROM authz_versions));
DROP TABLE authz_versions;
DROP SEQUENCE authz_version_seq;
