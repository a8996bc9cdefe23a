//! Storage tests: each runs on a fresh SQLite file and, when `TEST_DATABASE_URL` is set, on a
//! fresh Postgres schema.

mod accounts;
mod attempts;
mod audit;
mod authorized_ips;
mod fixtures;
mod groups;
mod keys;
mod last_use;
mod mfa;
mod mfa_races;
mod migrations;
mod oauth_clients;
mod oauth_flow;
mod oauth_tokens;
mod pool;
mod queries;
mod sessions;
mod sqlite_build;
mod sso;
mod sso_signin;
mod users;
mod versions;
