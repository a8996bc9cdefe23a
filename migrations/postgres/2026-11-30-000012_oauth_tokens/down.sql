DROP TABLE oauth_grants;
DROP TABLE oauth_revoked_tokens;
DROP TABLE oauth_signing_keys;
