DROP TABLE oauth_refresh_tokens;
DROP TABLE oauth_codes;
