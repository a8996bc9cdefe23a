-- Tessera's schema (Postgres). migrations/sqlite holds the same schema for SQLite.
-- Times are UTC, stored as TIMESTAMP (microseconds).

CREATE TABLE accounts (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    parent_id   BIGINT REFERENCES accounts (id),
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX accounts_parent_id_idx ON accounts (parent_id);

CREATE TABLE users (
    id             BIGSERIAL PRIMARY KEY,
    account_id     BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    login          TEXT NOT NULL,
    email          TEXT,
    phone_number   TEXT,
    description    TEXT,
    status         TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'pending')),
    password_hash  TEXT,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    CONSTRAINT users_account_id_login_key UNIQUE (account_id, login)
);
CREATE INDEX users_account_id_id_idx ON users (account_id, id);

CREATE TABLE user_roles (
    user_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id  BIGINT NOT NULL,
    PRIMARY KEY (user_id, role_id)
);

CREATE TABLE service_keys (
    id           TEXT PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id      BIGINT REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT,
    public_key   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX service_keys_account_id_idx ON service_keys (account_id, created_at, id);
CREATE INDEX service_keys_user_id_idx ON service_keys (user_id);

CREATE TABLE service_key_roles (
    key_id   TEXT NOT NULL REFERENCES service_keys (id) ON DELETE CASCADE,
    role_id  BIGINT NOT NULL,
    PRIMARY KEY (key_id, role_id)
);

CREATE TABLE access_keys (
    id            TEXT PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT,
    secret_hash   BYTEA NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    created_at    TIMESTAMP NOT NULL,
    last_used_at  TIMESTAMP
);
CREATE INDEX access_keys_user_id_idx ON access_keys (user_id);

CREATE TABLE sessions (
    token_hash  BYTEA PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE resource_groups (
    id          TEXT PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    meta        TEXT,
    scope       TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    CONSTRAINT resource_groups_account_id_name_key UNIQUE (account_id, name)
);
CREATE INDEX resource_groups_account_id_idx ON resource_groups (account_id, created_at, id);

CREATE TABLE user_groups (
    id           TEXT PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    created_on   TIMESTAMP NOT NULL,
    modified_on  TIMESTAMP NOT NULL,
    CONSTRAINT user_groups_account_id_name_key UNIQUE (account_id, name)
);
CREATE INDEX user_groups_account_id_idx ON user_groups (account_id, created_on, id);

CREATE TABLE policies (
    id             TEXT PRIMARY KEY,
    user_group_id  TEXT NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
    access         TEXT NOT NULL CHECK (access IN ('allow', 'deny')),
    position       INTEGER NOT NULL
);
CREATE INDEX policies_user_group_id_idx ON policies (user_group_id, position);

CREATE TABLE policy_permission_groups (
    policy_id            TEXT NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    permission_group_id  TEXT NOT NULL,
    PRIMARY KEY (policy_id, permission_group_id)
);

CREATE TABLE policy_resource_groups (
    policy_id          TEXT NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    resource_group_id  TEXT NOT NULL REFERENCES resource_groups (id),
    PRIMARY KEY (policy_id, resource_group_id)
);
CREATE INDEX policy_resource_groups_resource_group_id_idx ON policy_resource_groups (resource_group_id);

CREATE TABLE user_group_members (
    user_group_id  TEXT NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
    user_id        BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status         TEXT NOT NULL CHECK (status IN ('accepted', 'pending')),
    created_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (user_group_id, user_id)
);
CREATE INDEX user_group_members_user_id_idx ON user_group_members (user_id);

CREATE TABLE sso_connectors (
    id                    TEXT PRIMARY KEY,
    account_id            BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email_domain          TEXT NOT NULL,
    enabled               BOOLEAN NOT NULL,
    use_fedramp_language  BOOLEAN NOT NULL,
    verification_code     TEXT NOT NULL,
    verification_status   TEXT NOT NULL
        CHECK (verification_status IN ('awaiting', 'pending', 'verified', 'failed')),
    created_on            TIMESTAMP NOT NULL,
    updated_on            TIMESTAMP NOT NULL,
    CONSTRAINT sso_connectors_account_id_email_domain_key UNIQUE (account_id, email_domain)
);
CREATE INDEX sso_connectors_email_domain_idx ON sso_connectors (email_domain);

CREATE TABLE audit_events (
    id          BIGSERIAL PRIMARY KEY,
    account_id  BIGINT REFERENCES accounts (id),
    at          TIMESTAMP NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT,
    outcome     TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    client_ip   TEXT,
    request_id  TEXT,
    details     TEXT NOT NULL
);
CREATE INDEX audit_events_account_id_idx ON audit_events (account_id, id);
CREATE INDEX audit_events_actor_idx ON audit_events (account_id, actor_id, id);
CREATE INDEX audit_events_action_idx ON audit_events (account_id, action, id);

CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

-- One row, bumped by every change that affects who may do what; every instance polls it to
-- drop cached principals within a second.
CREATE TABLE authz_epoch (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  BIGINT NOT NULL
);
INSERT INTO authz_epoch (id, version) VALUES (1, 0);
