-- Each account's number of users, kept by the store in the transaction that adds or removes a
-- user, so that a list's total and the user limit cost one row read, not a count of the users.
ALTER TABLE accounts ADD COLUMN user_count BIGINT NOT NULL DEFAULT 0;
UPDATE accounts SET user_count = (SELECT count(*) FROM users WHERE users.account_id = accounts.id);
