-- Attempt limits (failed sign-ins per login and per client address), kept in the database so
-- that every instance on it counts the same attempts. One row per key, updated atomically: a
-- fixed window that starts at the first counted attempt.
CREATE TABLE auth_attempts (
    key           TEXT PRIMARY KEY,
    window_start  TIMESTAMP NOT NULL,
    attempts      INTEGER NOT NULL
);
