//! Settings: compiled-in defaults, then `config/default.toml`, then `config/$TESSERA_ENV.toml`,
//! then `TESSERA__SECTION__KEY` environment variables.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};

use crate::cause::{Cause, env_var};
use ipnet::IpNet;
use serde::Deserialize;
use tessera_http::client_address::{ClientAddress, ForwardedHeader};
use tessera_store::DatabaseUrl;

/// The defaults, compiled in so that the binary runs from any directory.
const DEFAULTS: &str = include_str!("../../../config/default.toml");

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file or variable could not be read or has the wrong shape.
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    /// A value is unusable.
    #[error("configuration: {0}")]
    Invalid(String),
    /// A file a setting names cannot be read.
    #[error("cannot read {what} {}: {cause}; set {key} or {}", path.display(), env_var(key))]
    File {
        /// What the file holds (`the TLS certificate`).
        what: &'static str,
        /// The setting naming it (`tls.cert`).
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it cannot be read.
        cause: Cause,
    },
}

/// Everything configurable.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Holds the SQLite file and the bootstrap credential files.
    pub data_dir: PathBuf,
    /// Listener.
    pub server: ServerSettings,
    /// Database.
    pub database: DatabaseSettings,
    /// TLS.
    #[serde(default)]
    pub tls: TlsSettings,
    /// First-start account.
    pub bootstrap: BootstrapSection,
    /// Authentication.
    pub auth: AuthSettings,
    /// Limits.
    pub limits: LimitSettings,
    /// SSO domain verification.
    pub sso: SsoSettings,
    /// Logging.
    pub log: LogSettings,
    /// The key sealing secrets at rest.
    #[serde(default)]
    pub secrets: SecretsSettings,
}

/// `[secrets]`.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsSettings {
    /// The current key (32 bytes, base64 or hex); empty = `<data_dir>/secrets.key`.
    #[serde(default)]
    pub key: String,
    /// Keys it replaced, still accepted for opening.
    #[serde(default)]
    pub previous_keys: Vec<String>,
}

impl std::fmt::Debug for SecretsSettings {
    /// Never prints a key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretsSettings")
            .field(
                "key",
                &if self.key.is_empty() {
                    "(data dir)"
                } else {
                    "(set)"
                },
            )
            .field("previous_keys", &self.previous_keys.len())
            .finish()
    }
}

/// `[sso]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SsoSettings {
    /// `ip:port` of the name server for TXT lookups; empty = the system's.
    pub nameserver: String,
    /// Seconds between verifier passes.
    pub verify_interval_secs: u64,
    /// Seconds before a pending verification fails.
    pub verification_timeout_secs: i64,
    /// Admit identity providers over plain `http` and on loopback or private addresses
    /// (development and tests only: it lets connector settings reach the internal network).
    #[serde(default)]
    pub allow_local_idp: bool,
    /// SSO sign-ins in progress one client address may have.
    #[serde(default = "default_logins_per_address")]
    pub sign_ins_per_address: u32,
    /// SSO sign-ins in progress one connector may have.
    #[serde(default = "default_logins_per_connector")]
    pub sign_ins_per_connector: u32,
}

fn default_logins_per_address() -> u32 {
    20
}

fn default_logins_per_connector() -> u32 {
    0
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Listen address.
    pub bind: String,
    /// Worker threads; 0 = one per core.
    pub workers: usize,
    /// Graceful shutdown timeout.
    pub shutdown_timeout_secs: u64,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Seconds a request body may take to arrive.
    pub body_timeout_secs: u64,
    /// Take the client address from the forwarding header of trusted proxies.
    pub trust_forwarded_for: bool,
    /// The proxies (CIDRs or addresses) whose forwarding entries are believed; none = the
    /// headers are ignored even with `trust_forwarded_for`.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// `x-forwarded-for` or `forwarded`: the header the trusted proxies maintain.
    pub forwarded_header: String,
    /// The URL clients reach Tessera at (`https://iam.example.com`): SSO's callback is
    /// `<public_url>/v1/sso/callback`. Empty: the request's own scheme and host.
    #[serde(default)]
    pub public_url: String,
}

/// `[database]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// Postgres or SQLite URL; unset = `<data_dir>/tessera.db`.
    pub url: Option<String>,
    /// Pool size.
    pub pool_size: u32,
    /// Seconds to wait for a connection.
    pub connect_timeout_secs: u64,
    /// Milliseconds between reads of the authorization versions (and of key usage writes):
    /// how instances learn of each other's changes on SQLite; on Postgres a safety net behind
    /// push notifications. 50 to 60,000.
    pub poll_interval_ms: u64,
}

/// `[tls]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// Certificate chain (PEM).
    pub cert: Option<PathBuf>,
    /// Private key (PEM).
    pub key: Option<PathBuf>,
}

/// `[bootstrap]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapSection {
    /// Bootstrap on an empty database at `serve`.
    pub enabled: bool,
    /// Account name.
    pub account_name: String,
    /// Account email.
    pub account_email: String,
    /// Owner login.
    pub owner_login: String,
    /// Owner email.
    pub owner_email: Option<String>,
}

/// `[auth]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// argon2id memory, KiB.
    pub argon2_memory_kib: u32,
    /// argon2id passes.
    pub argon2_iterations: u32,
    /// argon2id lanes.
    pub argon2_parallelism: u32,
    /// Concurrent hashes; 0 = one per core.
    pub hash_concurrency: usize,
    /// Session lifetime, seconds.
    pub session_ttl_secs: i64,
    /// Failures that lock a login.
    pub max_failures_per_login: u32,
    /// Failures that lock a client address.
    pub max_failures_per_address: u32,
    /// The failure window, seconds.
    pub failure_window_secs: i64,
    /// Identical failures from one address within this many seconds are one audit event.
    pub audit_fold_secs: i64,
    /// Password sign-ins admitted at once (hashing or waiting); 0 = 8 per hashing slot.
    pub sign_in_queue: usize,
    /// Of those, the most from one client address.
    pub sign_in_queue_per_address: usize,
    /// Lifetime of an OAuth access token, seconds (1 to 600).
    pub access_token_ttl_secs: i64,
}

/// `[limits]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    /// Users per account.
    pub max_users_per_account: u32,
    /// Service keys per owner.
    pub max_service_keys_per_owner: u32,
    /// Child accounts per account.
    pub max_child_accounts: u32,
    /// Levels of accounts below a top-level account (1 = children only).
    pub max_account_depth: u32,
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// Level filter.
    pub level: String,
    /// `text` or `json`.
    pub format: LogFormat,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable.
    Text,
    /// One JSON object per line.
    Json,
}

impl Settings {
    /// Loads the layers from `config_dir` (normally `./config`) and the process environment.
    ///
    /// # Errors
    /// `ConfigError` naming the bad file, key or value.
    pub fn load(config_dir: &Path) -> Result<Self, ConfigError> {
        // Variables that are not UTF-8 cannot be settings: they are left out, not a panic.
        let env = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Self::load_from(config_dir, env)
    }

    /// Like [`Settings::load`], with `env` in place of the process environment (as a deployment
    /// file sets it).
    ///
    /// # Errors
    /// `ConfigError` naming the bad file, key or value.
    pub fn load_from(config_dir: &Path, env: HashMap<String, String>) -> Result<Self, ConfigError> {
        let env_name = env.get("TESSERA_ENV").filter(|e| !e.is_empty()).cloned();
        let mut builder = Config::builder()
            .add_source(File::from_str(DEFAULTS, FileFormat::Toml))
            .add_source(File::from(config_dir.join("default.toml")).required(false));
        if let Some(env) = &env_name {
            let path = config_dir.join(format!("{env}.toml"));
            if !path.is_file() {
                return Err(ConfigError::Invalid(format!(
                    "TESSERA_ENV={env} but {} does not exist",
                    path.display()
                )));
            }
            builder = builder.add_source(File::from(path));
        }
        let settings: Settings = builder
            .add_source(
                Environment::with_prefix("TESSERA")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true)
                    .list_separator(",")
                    .with_list_parse_key("server.trusted_proxies")
                    .ignore_empty(true)
                    .source(Some(env.into_iter().collect())),
            )
            .build()?
            .try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    /// The compiled-in defaults alone (no files, no environment): a base for tests and tools.
    ///
    /// # Panics
    /// Never: the defaults are checked by a unit test.
    #[must_use]
    pub fn defaults() -> Self {
        Config::builder()
            .add_source(File::from_str(DEFAULTS, FileFormat::Toml))
            .build()
            .and_then(Config::try_deserialize)
            .expect("compiled-in defaults deserialize")
    }

    /// Checks the values that can be checked without touching the network.
    ///
    /// # Errors
    /// `Invalid` naming the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.bind_addr()?;
        self.database_url()?;
        match (&self.tls.cert, &self.tls.key) {
            (Some(_), None) | (None, Some(_)) => {
                return Err(ConfigError::Invalid(
                    "tls.cert and tls.key must be set together".into(),
                ));
            }
            (Some(cert), Some(key)) => {
                readable_file("the TLS certificate", "tls.cert", cert)?;
                readable_file("the TLS key", "tls.key", key)?;
            }
            (None, None) => {}
        }
        if !self.sso.nameserver.trim().is_empty()
            && self.sso.nameserver.trim().parse::<SocketAddr>().is_err()
        {
            return Err(ConfigError::Invalid(format!(
                "sso.nameserver: '{}' is not ip:port",
                self.sso.nameserver
            )));
        }
        self.client_address()?;
        let public = self.server.public_url.trim();
        if !public.is_empty()
            && (!(public.starts_with("https://") || public.starts_with("http://"))
                || public.contains(['?', '#', ' ']))
        {
            return Err(ConfigError::Invalid(format!(
                "server.public_url: '{public}' is not an http(s) URL without query or fragment"
            )));
        }
        if !(1..=tessera_domain::oauth::MAX_ACCESS_TOKEN_TTL_SECS)
            .contains(&self.auth.access_token_ttl_secs)
        {
            return Err(ConfigError::Invalid(format!(
                "auth.access_token_ttl_secs must be 1 to {}",
                tessera_domain::oauth::MAX_ACCESS_TOKEN_TTL_SECS
            )));
        }
        if self.database.pool_size == 0 {
            return Err(ConfigError::Invalid(
                "database.pool_size must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// How to find a request's client address (`server.trust_forwarded_for`,
    /// `server.trusted_proxies`, `server.forwarded_header`).
    ///
    /// # Errors
    /// `Invalid` naming a proxy that is not an address or a CIDR network, or an unknown header.
    pub fn client_address(&self) -> Result<ClientAddress, ConfigError> {
        let header = match self
            .server
            .forwarded_header
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "x-forwarded-for" => ForwardedHeader::XForwardedFor,
            "forwarded" => ForwardedHeader::Forwarded,
            other => {
                return Err(ConfigError::Invalid(format!(
                    "server.forwarded_header: '{other}' is neither x-forwarded-for nor forwarded"
                )));
            }
        };
        let trusted = self
            .server
            .trusted_proxies
            .iter()
            .map(|p| {
                let p = p.trim();
                p.parse::<IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        ConfigError::Invalid(format!(
                            "server.trusted_proxies: '{p}' is not an address or a CIDR network"
                        ))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ClientAddress {
            trusted: if self.server.trust_forwarded_for {
                trusted
            } else {
                Vec::new()
            },
            header,
        })
    }

    /// The listen address.
    ///
    /// # Errors
    /// `Invalid` when `server.bind` is not `host:port`.
    pub fn bind_addr(&self) -> Result<SocketAddr, ConfigError> {
        use std::net::ToSocketAddrs;
        self.server
            .bind
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "server.bind: '{}' is not an address:port",
                    self.server.bind
                ))
            })
    }

    /// The database to use: `database.url`, or the SQLite file in `data_dir`.
    ///
    /// # Errors
    /// `Invalid` for an unsupported or malformed URL.
    pub fn database_url(&self) -> Result<DatabaseUrl, ConfigError> {
        match self
            .database
            .url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            None => Ok(DatabaseUrl::sqlite(self.data_dir.join("tessera.db"))),
            Some(url) => DatabaseUrl::parse(url)
                .map_err(|e| ConfigError::Invalid(format!("database.url: {e}"))),
        }
    }
}

/// Checks that `path` is a file that can be opened for reading.
fn readable_file(what: &'static str, key: &'static str, path: &Path) -> Result<(), ConfigError> {
    let error = |cause: std::io::Error| ConfigError::File {
        what,
        key,
        path: path.to_path_buf(),
        cause: Cause(cause),
    };
    if path.is_dir() {
        return Err(error(std::io::Error::from(
            std::io::ErrorKind::IsADirectory,
        )));
    }
    std::fs::File::open(path).map(drop).map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Settings {
        let s = Settings::defaults();
        s.validate().unwrap();
        s
    }

    #[test]
    fn defaults_serve_sqlite_on_localhost_8080() {
        let s = defaults();
        assert_eq!(s.bind_addr().unwrap().to_string(), "127.0.0.1:8080");
        assert_eq!(
            s.database_url().unwrap(),
            DatabaseUrl::sqlite(PathBuf::from("./data/tessera.db"))
        );
        assert!(s.bootstrap.enabled);
        assert_eq!(s.auth.argon2_memory_kib, 19 * 1024);
        assert_eq!(
            s.client_address().unwrap(),
            ClientAddress::default(),
            "no proxy is trusted out of the box"
        );
    }

    #[test]
    fn trusted_proxies_count_only_with_trust_on() {
        let mut s = defaults();
        s.server.trusted_proxies = vec!["10.0.0.0/8".into(), "127.0.0.1".into()];
        assert!(s.client_address().unwrap().trusted.is_empty());
        s.server.trust_forwarded_for = true;
        assert_eq!(s.client_address().unwrap().trusted.len(), 2);
    }

    #[test]
    fn bad_values_are_named() {
        let mut s = defaults();
        s.database.url = Some("mysql://x".into());
        assert!(
            s.validate()
                .unwrap_err()
                .to_string()
                .contains("database.url")
        );
        let mut s = defaults();
        s.server.bind = "nowhere".into();
        assert!(
            s.validate()
                .unwrap_err()
                .to_string()
                .contains("server.bind")
        );
        let mut s = defaults();
        s.tls.cert = Some("/nonexistent.pem".into());
        assert!(s.validate().unwrap_err().to_string().contains("together"));
        let mut bad_proxy = defaults();
        bad_proxy.server.trusted_proxies = vec!["10.0.0.0/8".into(), "proxy.local".into()];
        assert!(
            bad_proxy
                .validate()
                .unwrap_err()
                .to_string()
                .contains("server.trusted_proxies: 'proxy.local'")
        );
        s.tls.key = Some("/nonexistent.key".into());
        assert_eq!(
            s.validate().unwrap_err().to_string(),
            "cannot read the TLS certificate /nonexistent.pem: no such file or directory; \
             set tls.cert or TESSERA__TLS__CERT"
        );
    }
}
