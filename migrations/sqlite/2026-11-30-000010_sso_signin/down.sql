DROP INDEX users_email;
DROP TABLE sso_logins;
DROP INDEX sso_connectors_verified_domain;
ALTER TABLE sso_connectors DROP COLUMN idp_client_secret;
ALTER TABLE sso_connectors DROP COLUMN idp;
