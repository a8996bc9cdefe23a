-- The authorization code flow. Codes and refresh tokens are random values shown once; only
-- their SHA-256 digests are kept. A spent code or refresh token stays (used_at set) for a while
-- so that its replay is recognised and its grant revoked (RFC 6749 §4.1.2, §10.4).
CREATE TABLE oauth_codes (
    digest             BYTEA PRIMARY KEY,
    client_id          TEXT NOT NULL,
    grant_id           TEXT NOT NULL,
    account_id         BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id            BIGINT NOT NULL,
    redirect_uri       TEXT NOT NULL,
    redirect_uri_given BOOLEAN NOT NULL,
    code_challenge     TEXT,
    nonce              TEXT,
    scopes             TEXT NOT NULL,
    auth_time          TIMESTAMP NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    expires_at         TIMESTAMP NOT NULL,
    used_at            TIMESTAMP
);
CREATE INDEX oauth_codes_grant ON oauth_codes (grant_id);
CREATE INDEX oauth_codes_expiry ON oauth_codes (expires_at);

CREATE TABLE oauth_refresh_tokens (
    digest       BYTEA PRIMARY KEY,
    grant_id     TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    account_id   BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL,
    scopes       TEXT NOT NULL,
    auth_time    TIMESTAMP NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    used_at      TIMESTAMP
);
CREATE INDEX oauth_refresh_tokens_grant ON oauth_refresh_tokens (grant_id);
CREATE INDEX oauth_refresh_tokens_expiry ON oauth_refresh_tokens (expires_at);
