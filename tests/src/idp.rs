//! A real OpenID Connect provider for the SSO tests: panva's `oidc-provider` (OpenID Certified)
//! run by `tests/idp/idp.mjs` under Node on a free loopback port (see `tests/idp/README.md`).
//!
//! [`Idp::start`] writes the configuration, starts the provider and waits for it; dropping the
//! [`Idp`] stops it. [`IdpBrowser`] signs a person in through the provider's HTML pages the way a
//! browser does and stops at the redirect back to the relying party. Without Node (or without
//! `npm ci` in `tests/idp`) [`Idp::start`] says so and answers `None`, and the test skips, unless
//! `TESSERA_REQUIRE_PEERS=1`, which makes it fail instead (CI sets it).

use std::fmt;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::Url;
use serde_json::{Value, json};

mod browser;
mod config;

pub use browser::{IdpBrowser, IdpForm, SignInError};
pub use config::{ClientAuth, IdpClient, IdpConfig, IdpUser, SigningAlg};

/// A one-shot tampering of the `id_token` in the provider's next token response (each one a
/// token a relying party must reject).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tamper {
    /// Signed by a key whose `kid` is not in the JWKS.
    UnknownKey,
    /// `aud` is another client's id; validly signed.
    OtherAudience,
    /// `exp` an hour ago, `iat` two hours ago; validly signed.
    Expired,
    /// A `nonce` the relying party never sent; validly signed.
    WrongNonce,
    /// `iss` is `<issuer>/not-the-issuer`; validly signed.
    WrongIssuer,
    /// An unsecured JWT: header `{"alg":"none"}`, empty signature.
    AlgNone,
    /// The real header with the signature removed (`header.payload.`).
    NoSignature,
    /// The real token with one byte of the signature flipped.
    BadSignature,
}

impl Tamper {
    /// Every mode.
    pub const ALL: [Self; 8] = [
        Self::UnknownKey,
        Self::OtherAudience,
        Self::Expired,
        Self::WrongNonce,
        Self::WrongIssuer,
        Self::AlgNone,
        Self::NoSignature,
        Self::BadSignature,
    ];

    /// The mode's name at the provider's `/__control` endpoint.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnknownKey => "unknown_key",
            Self::OtherAudience => "other_audience",
            Self::Expired => "expired",
            Self::WrongNonce => "wrong_nonce",
            Self::WrongIssuer => "wrong_issuer",
            Self::AlgNone => "alg_none",
            Self::NoSignature => "no_signature",
            Self::BadSignature => "bad_signature",
        }
    }
}

/// `tests/idp`, where `idp.mjs` and its `node_modules` are.
#[must_use]
pub fn idp_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("idp")
}

/// Node and an installed `tests/idp`, or `None` after saying what is missing (a panic instead
/// with `TESSERA_REQUIRE_PEERS=1`).
fn node() -> Option<PathBuf> {
    let required = std::env::var("TESSERA_REQUIRE_PEERS").as_deref() == Ok("1");
    let missing = |what: String| {
        assert!(!required, "{what} (required: TESSERA_REQUIRE_PEERS=1)");
        eprintln!("idp: skipped, {what}");
    };
    let Some(node) = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("node"))
            .find(|p| p.is_file())
    }) else {
        missing("node is not installed".into());
        return None;
    };
    let modules = idp_dir().join("node_modules").join("oidc-provider");
    if !modules.is_dir() {
        missing(format!(
            "{} is missing: run `npm ci` in {}",
            modules.display(),
            idp_dir().display()
        ));
        return None;
    }
    Some(node)
}

/// A running provider; stopped when dropped.
pub struct Idp {
    config: IdpConfig,
    node: PathBuf,
    dir: PathBuf,
    port: u16,
    issuer: String,
    generation: u64,
    child: Child,
    http: reqwest::Client,
}

impl Idp {
    /// Starts the provider on a free port of 127.0.0.1 (the provider binds port 0, so no other
    /// process can take it in between) with keys of generation 1; `None` when Node or
    /// `tests/idp/node_modules` is missing and not required.
    ///
    /// # Panics
    /// When the provider rejects the configuration or does not start within 30 seconds (the
    /// message carries its log).
    pub async fn start(config: IdpConfig) -> Option<Self> {
        static N: AtomicU64 = AtomicU64::new(0);
        let node = node()?;
        let dir = std::env::temp_dir().join(format!(
            "tessera-idp-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create the IdP's directory");
        let config_json = config.to_json(0, None, 1, &dir.join("keys.json"));
        let child = spawn(&node, &dir, &config_json);
        let mut idp = Self {
            config,
            node,
            dir,
            port: 0,
            issuer: String::new(),
            generation: 1,
            child,
            http: {
                tessera_server::idp::install_crypto_provider();
                reqwest::Client::new()
            },
        };
        idp.issuer = idp.wait_ready().await;
        idp.port = Url::parse(&idp.issuer)
            .ok()
            .and_then(|u| u.port())
            .expect("the issuer has a port");
        Some(idp)
    }

    /// The issuer, `http://127.0.0.1:<port>`; the same across restarts.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// `<issuer><path>`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// The generation of the signing keys in use (1 at start).
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The file holding the private signing keys of the current generation.
    #[must_use]
    pub fn keys_file(&self) -> PathBuf {
        self.dir.join("keys.json")
    }

    /// What the provider logged on stderr since it first started (one line per request).
    #[must_use]
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
    }

    /// Stops the provider and starts it again on the same port with the same keys. Sessions,
    /// codes and tokens issued before are gone (the provider keeps them in memory).
    ///
    /// # Panics
    /// When it does not come back.
    pub async fn restart(&mut self) {
        self.restart_with_generation(self.generation).await;
    }

    /// Stops the provider and starts it again on the same port with new signing keys: none of
    /// the previous `kid`s is in the JWKS any more.
    ///
    /// # Panics
    /// When it does not come back.
    pub async fn restart_with_new_keys(&mut self) {
        self.restart_with_generation(self.generation + 1).await;
    }

    async fn restart_with_generation(&mut self, generation: u64) {
        self.stop();
        self.generation = generation;
        let config =
            self.config
                .to_json(self.port, Some(&self.issuer), generation, &self.keys_file());
        self.child = spawn(&self.node, &self.dir, &config);
        let issuer = self.wait_ready().await;
        assert_eq!(issuer, self.issuer, "the issuer survives a restart");
    }

    /// Arms a one-shot tampering of the `id_token` in the next successful token response.
    ///
    /// # Panics
    /// When the provider does not accept it.
    pub async fn tamper(&self, mode: Tamper) {
        let res = self
            .http
            .post(self.url("/__control"))
            .json(&json!({ "tamper": mode.as_str() }))
            .send()
            .await
            .expect("the IdP answers");
        assert_eq!(res.status(), 200, "tamper {}", mode.as_str());
    }

    /// How many token responses were tampered with since the provider (re)started, and the
    /// mode still armed.
    ///
    /// # Panics
    /// When the provider does not answer.
    pub async fn tamper_state(&self) -> (u64, Option<String>) {
        let state: Value = self
            .http
            .get(self.url("/__control"))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .expect("the IdP answers")
            .json()
            .await
            .expect("JSON");
        (
            state["tampered"].as_u64().expect("tampered"),
            state["armed"].as_str().map(str::to_owned),
        )
    }

    /// The provider's JWKS (public keys), as served at `jwks_uri`.
    ///
    /// # Panics
    /// When the provider does not answer.
    pub async fn jwks(&self) -> Value {
        self.http
            .get(self.url("/jwks"))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .expect("the IdP answers")
            .json()
            .await
            .expect("JSON")
    }

    /// The `ready <issuer>` line's issuer; panics with the log when the provider exits or is
    /// silent for 30 seconds.
    async fn wait_ready(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = std::fs::read_to_string(self.dir.join("stdout.log")).unwrap_or_default();
            // A whole line: `ready <issuer>\n`.
            if let Some(issuer) = out
                .split_inclusive('\n')
                .filter_map(|l| l.strip_suffix('\n'))
                .find_map(|l| l.strip_prefix("ready "))
            {
                return issuer.to_owned();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the IdP exited ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "the IdP did not start in 30 s:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    fn stop(&mut self) {
        let _killed = self.child.kill();
        let _waited = self.child.wait();
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        self.stop();
        let _removed = std::fs::remove_dir_all(&self.dir);
    }
}

impl fmt::Debug for Idp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Idp")
            .field("issuer", &self.issuer)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// Writes `config.json` in `dir` and starts `node idp.mjs --config` on it; stdout to
/// `stdout.log` (truncated), stderr appended to `stderr.log`.
fn spawn(node: &Path, dir: &Path, config: &Value) -> Child {
    let file = dir.join("config.json");
    std::fs::write(&file, config.to_string()).expect("write the IdP's configuration");
    let stdout = File::create(dir.join("stdout.log")).expect("stdout.log");
    let stderr = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("stderr.log"))
        .expect("stderr.log");
    Command::new(node)
        .arg(idp_dir().join("idp.mjs"))
        .arg("--config")
        .arg(&file)
        .current_dir(idp_dir())
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("node starts")
}
