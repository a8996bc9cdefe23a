//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// What `tessera --help` says first.
const LONG_ABOUT: &str = "\
Tessera: identity and access management for a communications platform.

Accounts, users and sub-users, roles, API keys, user groups with allow/deny policies, SSO domain
verification and an audit log, behind a Voximplant-compatible method API (/platform_api), a
Cloudflare-compatible REST API (/v1) and Swagger UI (/docs). With no command, `tessera` serves:
on the first start it creates account 1 and writes its owner's credentials to
<data_dir>/initial-credentials.json.";

/// The main environment variables, listed after the options.
const ENVIRONMENT: &str = "\
Environment (overrides config/default.toml; any key is TESSERA__<SECTION>__<KEY>):
  TESSERA__SERVER__BIND        listen address [default: 127.0.0.1:8080]
  TESSERA__DATA_DIR            SQLite file and bootstrap credential files [default: ./data]
  TESSERA__DATABASE__URL       postgres://user:password@host/db or sqlite://<path>
                               [default: <data_dir>/tessera.db]
  TESSERA__TLS__CERT           PEM certificate chain; with TESSERA__TLS__KEY, serve HTTPS
  TESSERA__TLS__KEY            PEM private key
  TESSERA__BOOTSTRAP__ENABLED  create the first account on an empty database [default: true]
  TESSERA__LOG__LEVEL          trace, debug, info, warn or error [default: info]
  TESSERA__LOG__FORMAT         text or json [default: text]
  TESSERA_ENV                  also read config/<TESSERA_ENV>.toml
  TESSERA_CONFIG_DIR           same as --config-dir
Every key, its default and meaning: README.md, section Configuration.";

/// Tessera: identity and access management for a communications platform.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, about, long_about = LONG_ABOUT, after_help = ENVIRONMENT)]
pub struct Cli {
    /// Directory holding default.toml and <TESSERA_ENV>.toml.
    #[arg(long, env = "TESSERA_CONFIG_DIR", default_value = "config")]
    pub config_dir: PathBuf,

    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Clone, Subcommand, PartialEq, Eq)]
pub enum Command {
    /// Migrate the database, bootstrap it if empty, and serve the APIs (the default).
    #[command(after_help = ENVIRONMENT)]
    Serve(ServeArgs),
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Migrate, create the first account if the database is empty, and print its credentials.
    Bootstrap,
    /// Ask a running server whether it is ready (GET /readyz); exit 0 if it answers 200, 1 if
    /// not: a container health check.
    Healthcheck(HealthcheckArgs),
    /// Print the OpenAPI document (the same as GET /openapi.json).
    Openapi,
    /// Manage the secrets key (see docs/security.md).
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Manage the OAuth token-signing keys (see docs/oauth.md and docs/security.md).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Clear a login's failed sign-ins and lift its lock (audited); works with the server
    /// stopped or running.
    Unlock {
        /// The account's id.
        #[arg(long)]
        account: i64,
        /// The login.
        #[arg(long)]
        login: String,
    },
}

/// `secrets` subcommands.
#[derive(Debug, Clone, Subcommand, PartialEq, Eq)]
pub enum SecretsCommand {
    /// Seal every stored secret again under the current `secrets.key` (after a rotation, before
    /// dropping the old key from `secrets.previous_keys`).
    Reseal,
    /// Print a new random key (base64) for `secrets.key`.
    Generate,
}

/// `keys` subcommands.
#[derive(Debug, Clone, Subcommand, PartialEq, Eq)]
pub enum KeysCommand {
    /// Make a new current OAuth token-signing key (ES256) and print its kid; works with the
    /// server stopped or running. Running instances sign with it within 5 seconds; the previous
    /// key stays published at /oauth/jwks until the tokens it signed have expired (about 11
    /// minutes), then is pruned.
    Rotate,
}

/// `serve`'s options: each overrides its setting from the files and the environment.
#[derive(Debug, Clone, Default, Args, PartialEq, Eq)]
pub struct ServeArgs {
    /// Listen address, e.g. 0.0.0.0:8080 (overrides server.bind and TESSERA__SERVER__BIND).
    #[arg(long, value_name = "ADDR:PORT")]
    pub bind: Option<String>,
    /// Data directory (overrides data_dir and TESSERA__DATA_DIR).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// `healthcheck`'s options.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct HealthcheckArgs {
    /// The URL to ask [default: /readyz at server.bind, with 127.0.0.1 for 0.0.0.0 and https
    /// when tls.cert is set; https trusts exactly the certificate in tls.cert].
    #[arg(long)]
    pub url: Option<String>,
    /// Seconds to wait for the answer, connecting included.
    #[arg(long, value_name = "SECS", default_value_t = 3,
          value_parser = clap::value_parser!(u64).range(1..=60))]
    pub timeout: u64,
}
