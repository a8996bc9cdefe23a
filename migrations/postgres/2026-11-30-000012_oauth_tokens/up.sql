-- OAuth tokens: Tessera's token-signing keys (ES256; the private half sealed with the secrets
-- key, never in clear), revoked access tokens (by jti, until they expire) and grants (a user's
-- consent to an OAuth client; tokens issued from one name it).

-- At most one current key (retired_at IS NULL): instances starting together agree on one.
CREATE TABLE oauth_signing_keys (
    kid            TEXT PRIMARY KEY,
    public_jwk     TEXT NOT NULL,
    sealed_private BYTEA NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    retired_at     TIMESTAMP
);
CREATE UNIQUE INDEX oauth_signing_keys_one_current ON oauth_signing_keys ((retired_at IS NULL))
    WHERE retired_at IS NULL;

CREATE TABLE oauth_revoked_tokens (
    jti        TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX oauth_revoked_tokens_expires_at_idx ON oauth_revoked_tokens (expires_at);

CREATE TABLE oauth_grants (
    id         TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX oauth_grants_user_idx ON oauth_grants (user_id);
CREATE INDEX oauth_grants_client_idx ON oauth_grants (client_id);
