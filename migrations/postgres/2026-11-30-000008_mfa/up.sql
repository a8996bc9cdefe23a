-- Second factors of password sign-in (TOTP, RFC 6238). An account may require them of its
-- password users. A user has at most one enrolment: pending until a code confirms it. The seed
-- is sealed (AES-256-GCM, bound to `totp:<user id>`), never stored in clear; `last_step` is
-- the last accepted time step: a code is accepted by one guarded UPDATE only for a later step,
-- so a code is used once. Recovery codes and sign-in challenges are stored as SHA-256 digests.
ALTER TABLE accounts ADD COLUMN require_mfa BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE mfa_totp (
    user_id        BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    account_id     BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    sealed_secret  BYTEA NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    confirmed_at   TIMESTAMP,
    last_step      BIGINT
);
CREATE INDEX mfa_totp_account_id_idx ON mfa_totp (account_id);

CREATE TABLE mfa_recovery_codes (
    user_id    BIGINT NOT NULL REFERENCES mfa_totp (user_id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    digest     BYTEA NOT NULL,
    used_at    TIMESTAMP,
    PRIMARY KEY (user_id, position)
);

CREATE TABLE mfa_challenges (
    token_hash  BYTEA PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL CHECK (purpose IN ('verify', 'enrol')),
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL
);
CREATE INDEX mfa_challenges_user_id_idx ON mfa_challenges (user_id, created_at);
CREATE INDEX mfa_challenges_expires_at_idx ON mfa_challenges (expires_at);
