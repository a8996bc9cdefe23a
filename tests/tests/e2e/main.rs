//! End-to-end tests: the real server, real HTTP, a fresh database per test, on SQLite and (with
//! `TEST_DATABASE_URL`) Postgres.

mod agreement;
mod authorized_ips;
mod authz;
mod bootstrap;
mod cloudflare_compat;
mod credential_report;
mod expected_forms;
mod hardening;
mod hostile;
mod idp_peer;
mod key_expiry;
mod links;
mod lockout;
mod metrics;
mod mfa;
mod oauth_tokens;
mod openapi;
mod openapi_validity;
mod ops;
mod peers;
mod push_invalidation;
mod rest_accounts;
mod rest_errors;
mod rest_iam;
mod rest_keys_sso;
mod review;
mod review_i12;
mod rpc;
mod sdk_paging;
mod sessions;
mod signin;
mod signin_browser;
mod soundness;
mod soundness_state;
mod sso;
