-- SSO sign-in through the connector's OpenID Connect provider.
-- The provider's settings (JSON: issuer, client_id, scopes, email_claim, jit_role) and its
-- client secret, sealed with the secrets key (AES-256-GCM), never in clear.
ALTER TABLE sso_connectors ADD COLUMN idp TEXT;
ALTER TABLE sso_connectors ADD COLUMN idp_client_secret BYTEA;

-- One domain, one account: of connectors verified for the same domain in different accounts,
-- only the first verified keeps it; the others are failed (and disabled).
UPDATE sso_connectors SET verification_status = 'failed', enabled = FALSE
WHERE verification_status = 'verified' AND EXISTS (
    SELECT 1 FROM sso_connectors o
    WHERE o.email_domain = sso_connectors.email_domain
      AND o.verification_status = 'verified'
      AND (o.updated_on < sso_connectors.updated_on
           OR (o.updated_on = sso_connectors.updated_on AND o.id < sso_connectors.id))
);
CREATE UNIQUE INDEX sso_connectors_verified_domain ON sso_connectors (email_domain)
    WHERE verification_status = 'verified';

-- Sign-ins in progress at an IdP: consumed once by the callback, purged when expired. Only
-- digests of the state and of the browser binding are kept; the PKCE verifier is sealed.
CREATE TABLE sso_logins (
    state_digest    BYTEA PRIMARY KEY,
    connector_id    TEXT NOT NULL REFERENCES sso_connectors(id) ON DELETE CASCADE,
    account_id      BIGINT NOT NULL,
    nonce           TEXT NOT NULL,
    sealed_verifier BYTEA NOT NULL,
    binding_digest  BYTEA NOT NULL,
    redirect_uri    TEXT NOT NULL,
    return_to       TEXT NOT NULL,
    client_ip       TEXT,
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL
);
CREATE INDEX sso_logins_connector ON sso_logins (connector_id, expires_at);
CREATE INDEX sso_logins_address ON sso_logins (client_ip, expires_at);
CREATE INDEX sso_logins_expiry ON sso_logins (expires_at);

-- Users found by email at SSO sign-in.
CREATE INDEX users_email ON users (account_id, lower(email));
