//! Wiring: which adapter implements which port, and the HTTP server around the adapters.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::{App as ActixApp, HttpServer, web};
use std::sync::atomic::{AtomicBool, Ordering};

use tessera_app::infra::{Argon2Hasher, AwsLcKeyPairs, HashParams, OsRandom, SystemClock};
use tessera_app::{App, BootstrapSettings, Ports, RateLimits, SystemPorts};
use tessera_http::extract::InlineReads;
use tessera_http::fallback::{RouteTable, no_route};
use tessera_http::observe::{Metrics, observe};
use tessera_http::protocol::{BodyLimits, hygiene};
use tessera_http::scrape::{self, BuildInfo, PoolLoad};
use tessera_http::security::secure_headers;
use tessera_store::{Backend, Database, DatabaseUrl, PoolOptions, Store, StoreError};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::cause::Cause;
use crate::config::{ConfigError, Settings};
use crate::credentials;
use crate::shutdown::{Draining, close_when_draining, stop_on_signals};
use crate::upkeep;

/// Where Swagger UI is; `/`, `/docs` and the REST API's root `/v1` redirect there.
pub const DOCS: &str = "/docs/";

/// Why the server could not start (each renders as one line: the thing, the cause, and the
/// setting that changes it).
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Bad settings.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The listen address cannot be bound.
    #[error("cannot listen on {addr}: {cause}; set server.bind or TESSERA__SERVER__BIND")]
    Listen {
        /// `server.bind`.
        addr: SocketAddr,
        /// Why.
        cause: Cause,
    },
    /// The data directory cannot be created, read or written.
    #[error("cannot use the data directory {}: {cause}; set data_dir or TESSERA__DATA_DIR", path.display())]
    DataDir {
        /// `data_dir`.
        path: PathBuf,
        /// Why.
        cause: Cause,
    },
    /// The database cannot be opened: the store's reason.
    #[error("database: {0}; set database.url or TESSERA__DATABASE__URL")]
    Database(String),
    /// The database opened but its schema cannot be migrated.
    #[error("database: {0}")]
    Migrate(String),
    /// Bootstrap failed.
    #[error("bootstrap: {0}")]
    Bootstrap(String),
    /// The TLS certificate and key cannot be used.
    #[error("{0}")]
    Tls(String),
    /// The HTTP server cannot be set up.
    #[error("server: {0}")]
    Server(String),
}

impl StartupError {
    /// The store's reason a database cannot be opened, without its generic prefix.
    fn opening(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(reason) => Self::Database(reason.trim_end().to_owned()),
            other => Self::Database(other.to_string()),
        }
    }
}

/// The use cases and the store behind them.
pub struct Wired {
    /// The use cases.
    pub app: Arc<App>,
    /// The storage adapter.
    pub store: Store,
    /// The password hasher (its queue is a metric).
    pub hasher: Arc<Argon2Hasher>,
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Opens and migrates the database and builds the use cases (blocking).
///
/// # Errors
/// `DataDir` when the SQLite file's data directory is unusable, `Database` when the database
/// cannot be reached, `Migrate` when it cannot be migrated.
pub fn wire(settings: &Settings) -> Result<Wired, StartupError> {
    let url = settings.database_url()?;
    if matches!(&url, DatabaseUrl::Sqlite(path) if path.starts_with(&settings.data_dir)) {
        check_data_dir(&settings.data_dir)?;
    }
    let db = Database::open(
        &url,
        &PoolOptions {
            max_size: settings.database.pool_size,
            connect_timeout: Duration::from_secs(settings.database.connect_timeout_secs.max(1)),
        },
    )
    .map_err(StartupError::opening)?;
    let applied = db
        .migrate()
        .map_err(|e| StartupError::Migrate(e.to_string()))?;
    tracing::info!(database = %url, backend = db.backend().as_str(), migrations_applied = applied.len(), "database ready");
    let store = Store::new(db);
    let auth = &settings.auth;
    let concurrency = if auth.hash_concurrency == 0 {
        cores()
    } else {
        auth.hash_concurrency
    };
    let hasher = Arc::new(Argon2Hasher::new(
        HashParams {
            memory_kib: auth.argon2_memory_kib,
            iterations: auth.argon2_iterations,
            parallelism: auth.argon2_parallelism,
        },
        concurrency,
    ));
    let nameserver = settings.sso.nameserver.trim().parse::<SocketAddr>().ok();
    let dns: Arc<dyn tessera_domain::ports::DnsResolver> = match crate::dns::HickoryDns::new(
        nameserver,
    ) {
        Ok(d) => Arc::new(d),
        Err(e) => {
            tracing::warn!(error = %e, "no DNS resolver: SSO domain verifications will stay pending");
            Arc::new(crate::dns::NoDns(e))
        }
    };
    let oidc: Arc<dyn tessera_domain::ports::OidcRelyingParty> =
        match crate::idp::OpenIdConnect::new(settings.sso.allow_local_idp) {
            Ok(o) => Arc::new(o),
            Err(e) => {
                tracing::warn!(error = %e, "no OpenID Connect client: SSO sign-in will answer 502");
                Arc::new(crate::idp::NoOidc(e))
            }
        };
    if settings.sso.allow_local_idp {
        tracing::warn!(
            "sso.allow_local_idp is on: identity providers may be reached over http and on private addresses"
        );
    }
    let (sealer, key_source) = crate::secrets::load_sealer(&settings.secrets, &settings.data_dir)?;
    match &key_source {
        crate::secrets::KeySource::Generated(path) => tracing::warn!(
            path = %path.display(),
            key_id = sealer.current_key_id(),
            "generated the secrets key sealing IdP client secrets and TOTP seeds; back it up (losing it loses them) or set secrets.key"
        ),
        crate::secrets::KeySource::File(path) => {
            tracing::info!(path = %path.display(), key_id = sealer.current_key_id(), "secrets key read");
        }
        crate::secrets::KeySource::Configured => {
            tracing::info!(
                key_id = sealer.current_key_id(),
                "secrets key from secrets.key"
            );
        }
    }
    let ports = Ports::with_storage(
        &Arc::new(store.clone()),
        SystemPorts {
            dns,
            hasher: hasher.clone(),
            clock: Arc::new(SystemClock),
            ids: Arc::new(OsRandom::new()),
            key_pairs: Arc::new(AwsLcKeyPairs),
            sealer: Arc::new(sealer),
            oidc,
        },
    );
    let app = App::new(
        ports,
        tessera_app::Settings {
            max_users_per_account: settings.limits.max_users_per_account,
            max_service_keys_per_owner: settings.limits.max_service_keys_per_owner,
            session_ttl_secs: auth.session_ttl_secs,
            rate_limits: RateLimits {
                per_login: auth.max_failures_per_login,
                per_address: auth.max_failures_per_address,
                window_secs: auth.failure_window_secs,
            },
            cache_staleness_ms: 1000,
            sso_verification_timeout_secs: settings.sso.verification_timeout_secs,
            sso_allow_http_issuers: settings.sso.allow_local_idp,
            sso_logins_per_address: settings.sso.sign_ins_per_address,
            sso_logins_per_connector: settings.sso.sign_ins_per_connector,
            audit_fold_secs: auth.audit_fold_secs,
            sign_in_queue: if auth.sign_in_queue == 0 {
                concurrency.saturating_mul(8)
            } else {
                auth.sign_in_queue
            },
            sign_in_queue_per_address: auth.sign_in_queue_per_address,
            max_child_accounts: settings.limits.max_child_accounts,
            max_account_depth: settings.limits.max_account_depth,
            oauth_issuer: Some(
                settings
                    .server
                    .public_url
                    .trim()
                    .trim_end_matches('/')
                    .to_owned(),
            )
            .filter(|u| !u.is_empty()),
            access_token_ttl_secs: auth.access_token_ttl_secs,
        },
    );
    Ok(Wired {
        app: Arc::new(app),
        store,
        hasher,
    })
}

/// Creates the data directory when it is missing (mode 0700) and checks that files can be
/// created in it, with a probe file removed at once.
///
/// # Errors
/// `DataDir` naming the directory and the reason.
pub fn check_data_dir(dir: &Path) -> Result<(), StartupError> {
    use std::os::unix::fs::OpenOptionsExt;
    let error = |cause: std::io::Error| StartupError::DataDir {
        path: dir.to_path_buf(),
        cause: Cause(cause),
    };
    if dir.exists() && !dir.is_dir() {
        return Err(error(std::io::Error::from(
            std::io::ErrorKind::NotADirectory,
        )));
    }
    tessera_store::db::create_private_dir(dir).map_err(error)?;
    std::fs::read_dir(dir).map_err(error)?;
    let probe = dir.join(format!(".tessera-probe-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&probe)
        .map_err(error)?;
    std::fs::remove_file(&probe).map_err(error)
}

/// The bootstrap settings from the config.
#[must_use]
pub fn bootstrap_settings(settings: &Settings) -> BootstrapSettings {
    let b = &settings.bootstrap;
    BootstrapSettings {
        account_name: b.account_name.clone(),
        account_email: b.account_email.clone(),
        owner_login: b.owner_login.clone(),
        owner_email: b.owner_email.clone(),
    }
}

/// Bootstraps an empty database and writes the credential files; returns their path.
///
/// # Errors
/// `Bootstrap` when the account cannot be created or the files written.
pub fn bootstrap_if_empty(app: &App, settings: &Settings) -> Result<Option<PathBuf>, StartupError> {
    let Some(creds) = app
        .bootstrap(&bootstrap_settings(settings))
        .map_err(|e| StartupError::Bootstrap(e.to_string()))?
    else {
        return Ok(None);
    };
    let path = credentials::write_files(&settings.data_dir, &creds).map_err(|e| {
        StartupError::Bootstrap(format!(
            "cannot write {}: {e}",
            settings
                .data_dir
                .join(credentials::INITIAL_CREDENTIALS)
                .display()
        ))
    })?;
    tracing::info!(
        account_id = %creds.account.id,
        owner = %creds.owner.login,
        credentials = %path.display(),
        "bootstrapped the first account; its credentials are in the file named here"
    );
    Ok(Some(path))
}

/// The OpenAPI document of everything the server serves (collected from the registered
/// handlers).
#[must_use]
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = ActixApp::new()
        .into_utoipa_app()
        .openapi(tessera_http::openapi::ApiDoc::openapi())
        .configure(tessera_http::configure)
        .configure(tessera_rpc::configure)
        .split_for_parts();
    tessera_http::openapi::finish(&mut doc);
    doc
}

/// The methods every served path answers (the document's, and the method API's generic
/// routes), so that the fallback tells 405 from 404.
fn route_table(doc: &utoipa::openapi::OpenApi) -> RouteTable {
    let rpc = [Method::GET, Method::POST];
    RouteTable::from_openapi(doc)
        .with("/signin", &[Method::GET])
        .with("/signin/signin.js", &[Method::GET])
        .with("/signin/signin.css", &[Method::GET])
        .with("/platform_api", &rpc)
        .with("/platform_api/", &rpc)
        .with("/platform_api/{method}", &rpc)
}

/// The commit this binary was built from (`build.rs`), or `unknown`.
pub const GIT_COMMIT: &str = env!("TESSERA_GIT_COMMIT");

/// Registers the metrics read at each scrape: what the use cases count, the database pool,
/// the hashing queue, the build and the process.
fn register_metrics(metrics: &Metrics, wired: &Wired, backend: Backend) -> prometheus::Result<()> {
    let registry = metrics.registry();
    scrape::register_app(registry, wired.app.clone())?;
    let database = wired.store.database().clone();
    scrape::register_pool(registry, move || {
        let s = database.pool_stats();
        PoolLoad {
            max_size: s.max_size,
            connections: s.connections,
            idle: s.idle,
            waits: s.waits,
            timeouts: s.timeouts,
        }
    })?;
    let hasher = wired.hasher.clone();
    scrape::register_hashing(registry, move || hasher.load())?;
    scrape::register_build_info(
        registry,
        &BuildInfo {
            version: env!("CARGO_PKG_VERSION"),
            git_commit: GIT_COMMIT,
            backend: backend.as_str(),
        },
    )?;
    scrape::register_process(registry)
}

/// A bound, not yet running server.
pub struct Application {
    server: Server,
    addr: SocketAddr,
    tls: bool,
    backend: Backend,
    stop: Arc<AtomicBool>,
    draining: Draining,
}

impl Application {
    /// Wires everything, bootstraps if enabled and the database is empty, and binds the
    /// listener (port 0 picks a free port).
    ///
    /// # Errors
    /// Any `StartupError`.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        // Everything that can be checked without the database comes first, so that a busy
        // port, a bad TLS file or an unusable data directory changes nothing.
        let bind = settings.bind_addr()?;
        let tls_config = match (&settings.tls.cert, &settings.tls.key) {
            (Some(cert), Some(key)) => {
                Some(crate::tls::server_config(cert, key).map_err(StartupError::Tls)?)
            }
            _ => None,
        };
        let client_address = web::Data::new(settings.client_address()?);
        let listener = TcpListener::bind(bind).map_err(|e| StartupError::Listen {
            addr: bind,
            cause: Cause(e),
        })?;
        let addr = listener.local_addr().map_err(|e| StartupError::Listen {
            addr: bind,
            cause: Cause(e),
        })?;
        if settings.bootstrap.enabled {
            check_data_dir(&settings.data_dir)?;
        }
        let s = settings.clone();
        let wired = actix_web::rt::task::spawn_blocking(move || {
            let wired = wire(&s)?;
            wired
                .app
                .ensure_signing_key()
                .map_err(|e| StartupError::Server(format!("OAuth signing key: {e}")))?;
            if s.bootstrap.enabled {
                bootstrap_if_empty(&wired.app, &s)?;
            }
            Ok::<_, StartupError>(wired)
        })
        .await
        .map_err(|e| StartupError::Server(format!("startup task failed: {e}")))??;
        let backend = wired.store.database().backend();
        let metrics = Metrics::new();
        register_metrics(&metrics, &wired, backend)
            .map_err(|e| StartupError::Server(format!("metrics: {e}")))?;
        let stop = Arc::new(AtomicBool::new(false));
        upkeep::spawn_maintenance(
            wired.app.clone(),
            stop.clone(),
            Duration::from_millis(settings.database.poll_interval_ms.clamp(50, 60_000)),
        );
        upkeep::spawn_change_listener(wired.app.clone(), wired.store.database(), stop.clone());
        upkeep::spawn_verifier(
            wired.app.clone(),
            stop.clone(),
            Duration::from_secs(settings.sso.verify_interval_secs.max(1)),
        );
        let app = web::Data::new(wired.app);
        let rpc_metrics = web::Data::new(
            tessera_rpc::metrics::RpcMetrics::register(metrics.registry())
                .map_err(|e| StartupError::Server(format!("metrics: {e}")))?,
        );
        let metrics_data = web::Data::new(metrics);
        let draining = Draining::default();
        let draining_data = web::Data::new(draining.clone());
        let max_body = settings.server.max_body_bytes;
        let body_limits = web::Data::new(BodyLimits {
            max_bytes: max_body,
            timeout: Duration::from_secs(settings.server.body_timeout_secs.max(1)),
        });
        let public_url = web::Data::new(tessera_http::sso_signin::PublicUrl(
            Some(settings.server.public_url.trim().to_owned()).filter(|u| !u.is_empty()),
        ));
        let doc = openapi();
        let routes_data = web::Data::new(route_table(&doc));
        // Single-object reads run inline on the workers when the database is embedded and a
        // connection is idle; on Postgres every query goes to the blocking pool.
        let inline_reads = web::Data::new(InlineReads(match backend {
            Backend::Sqlite => {
                let database = wired.store.database().clone();
                Arc::new(move || database.idle_connections() > 0)
            }
            Backend::Postgres => Arc::new(|| false),
        }));
        let factory = move || {
            let (routes, _) = ActixApp::new()
                .into_utoipa_app()
                .app_data(app.clone())
                .app_data(metrics_data.clone())
                .app_data(rpc_metrics.clone())
                .app_data(client_address.clone())
                .app_data(public_url.clone())
                .app_data(routes_data.clone())
                .app_data(inline_reads.clone())
                .app_data(body_limits.clone())
                .app_data(draining_data.clone())
                .app_data(web::PayloadConfig::new(max_body))
                .app_data(web::Data::new(tessera_rpc::BodyLimit(max_body)))
                // Before the REST scope, which would answer `/v1` itself with a 404.
                .map(|app| {
                    app.service(web::redirect("/", DOCS))
                        .service(web::redirect("/docs", DOCS))
                        .service(web::redirect("/v1", DOCS))
                        .service(web::redirect("/v1/", DOCS))
                })
                .configure(tessera_http::configure)
                .configure(tessera_rpc::configure)
                .split_for_parts();
            routes
                .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", doc.clone()))
                .default_service(web::to(no_route))
                .wrap(from_fn(hygiene))
                .wrap(from_fn(secure_headers))
                .wrap(from_fn(close_when_draining))
                .wrap(from_fn(observe))
        };
        let workers = if settings.server.workers == 0 {
            cores()
        } else {
            settings.server.workers
        };
        let server = HttpServer::new(factory)
            .on_connect(tessera_http::protocol::on_connect)
            .workers(workers)
            .shutdown_timeout(settings.server.shutdown_timeout_secs)
            // `run` installs its own (crate::shutdown): SIGTERM also closes kept-alive connections.
            .disable_signals();
        let tls = tls_config.is_some();
        let server = match tls_config {
            Some(config) => server.listen_rustls_0_23(listener, config),
            None => server.listen(listener),
        }
        .map_err(|e| StartupError::Listen {
            addr,
            cause: Cause(e),
        })?
        .run();
        Ok(Self {
            server,
            addr,
            tls,
            backend,
            stop,
            draining,
        })
    }

    /// The bound address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether the listener speaks TLS.
    #[must_use]
    pub fn tls(&self) -> bool {
        self.tls
    }

    /// The database backend in use.
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A handle to stop the server gracefully.
    #[must_use]
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM (in-flight requests drain, responses close their connections),
    /// SIGINT or SIGQUIT (at once), or `handle().stop()`.
    ///
    /// # Errors
    /// IO errors of the server, or signal handlers that cannot be installed.
    pub async fn run(self) -> std::io::Result<()> {
        let scheme = if self.tls { "https" } else { "http" };
        stop_on_signals(self.server.handle(), self.draining.clone())?;
        // The server starts (binds its workers, installs its signal handlers) when first polled:
        // spawn it and let it take that first step before announcing it.
        let running = actix_web::rt::spawn(self.server);
        actix_web::rt::task::yield_now().await;
        tracing::info!(
            addr = %self.addr,
            scheme,
            docs = %format!("{scheme}://{}/docs", self.addr),
            "listening"
        );
        let result = running
            .await
            .map_err(|e| std::io::Error::other(format!("server task failed: {e}")))?;
        self.stop.store(true, Ordering::Relaxed);
        result
    }
}
