ALTER TABLE accounts DROP COLUMN user_count;
