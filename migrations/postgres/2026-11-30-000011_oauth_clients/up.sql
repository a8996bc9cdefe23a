-- OAuth clients (Cloudflare's iam.oauth_clients). The settings (grant and response types,
-- redirect URIs, scopes, informational URLs) are one JSON document checked by the domain; the
-- secrets are SHA-256 digests of random 238-bit values, never the values. A rotation moves the
-- current digest to previous_secret_digest in the same statement, so at most two are valid.
CREATE TABLE oauth_clients (
    id                          TEXT PRIMARY KEY,
    account_id                  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_name                 TEXT NOT NULL,
    token_endpoint_auth_method  TEXT NOT NULL
        CHECK (token_endpoint_auth_method IN ('none', 'client_secret_basic', 'client_secret_post')),
    visibility                  TEXT NOT NULL CHECK (visibility IN ('private', 'public')),
    settings                    TEXT NOT NULL,
    secret_digest               BYTEA,
    previous_secret_digest      BYTEA,
    created_at                  TIMESTAMP NOT NULL,
    updated_at                  TIMESTAMP NOT NULL,
    promoted_at                 TIMESTAMP
);
CREATE INDEX oauth_clients_account ON oauth_clients (account_id, created_at);
