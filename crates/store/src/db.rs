//! Connections: one diesel `MultiConnection` over Postgres and SQLite, an r2d2 pool whose manager
//! picks the backend from the URL scheme, and embedded migrations. Write transactions and row
//! locks live in `tx.rs`, re-exported here.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::R2D2Connection;
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::StoreError;
pub use crate::tx::{lock_account, lock_text_row, write_tx};

mod any {
    // The derive generates public items (the `MultiBackend` backend among them) without docs.
    #![allow(missing_docs)]

    use diesel::{PgConnection, SqliteConnection};

    /// A connection to either backend; queries written once run on both.
    #[derive(diesel::MultiConnection)]
    pub enum AnyConnection {
        /// Postgres.
        Postgresql(PgConnection),
        /// Embedded SQLite.
        Sqlite(SqliteConnection),
    }
}

pub use any::{AnyConnection, MultiBackend};

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Which database a URL names.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `postgres://…` or `postgresql://…`.
    Postgres(String),
    /// An SQLite file.
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    /// Reads `database.url`: `postgres://…`, `postgresql://…`, `sqlite://<path>` or `sqlite:<path>`.
    ///
    /// # Errors
    /// `StoreError::InvalidUrl` for any other scheme, or a Postgres URL without a host part.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let url = url.trim();
        if let Some(rest) = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
        {
            if rest.is_empty() || rest.starts_with('?') || rest.contains(char::is_whitespace) {
                return Err(StoreError::InvalidUrl(format!(
                    "{}: expected postgres://user@host:port/database",
                    redact(url)
                )));
            }
            return Ok(Self::Postgres(url.to_owned()));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(StoreError::InvalidUrl("sqlite: URL without a path".into()));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        Err(StoreError::InvalidUrl(format!(
            "{}: database.url must start with postgres://, postgresql:// or sqlite://",
            redact(url)
        )))
    }

    /// The embedded SQLite file at `path`.
    #[must_use]
    pub fn sqlite(path: impl AsRef<Path>) -> Self {
        Self::Sqlite(path.as_ref().to_path_buf())
    }

    /// The backend this URL selects.
    #[must_use]
    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Postgres(u) => f.write_str(&redact(u)),
            Self::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// Hides the password of a `scheme://user:password@host` URL.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

/// The two supported backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Postgres.
    Postgres,
    /// SQLite.
    Sqlite,
}

impl Backend {
    /// `postgres` or `sqlite`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Sqlite => "sqlite",
        }
    }
}

/// Pool settings.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// Most connections open at once.
    pub max_size: u32,
    /// How long a request waits for a connection before the database counts as unavailable.
    pub connect_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 16,
            connect_timeout: Duration::from_secs(3),
        }
    }
}

/// Opens connections of the backend the URL names (never guessing: SQLite would accept a
/// Postgres URL as a file name).
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
    connect_timeout_secs: u64,
}

/// A connection as the pool keeps it: with the moment it last came back.
pub struct Tracked {
    conn: AnyConnection,
    returned_at: Option<Instant>,
}

/// A connection that came back this recently is taken as alive without asking the server (the
/// checkout's `SELECT 1` is a round trip per request otherwise); an older one is pinged.
const TRUSTED_FOR: Duration = Duration::from_secs(1);

impl Manager {
    fn connect_any(&self) -> Result<AnyConnection, diesel::r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let url = with_connect_timeout(url, self.connect_timeout_secs);
                PgConnection::establish(&url)
                    .map(AnyConnection::Postgresql)
                    .map_err(diesel::r2d2::Error::ConnectionError)
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                conn.batch_execute(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; \
                     PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
                )
                .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(AnyConnection::Sqlite(conn))
            }
        }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Tracked;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Tracked, Self::Error> {
        Ok(Tracked {
            conn: self.connect_any()?,
            returned_at: None,
        })
    }

    fn is_valid(&self, conn: &mut Tracked) -> Result<(), Self::Error> {
        if conn.returned_at.is_some_and(|t| t.elapsed() < TRUSTED_FOR) {
            return Ok(());
        }
        conn.conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut Tracked) -> bool {
        conn.conn.is_broken()
    }
}

fn with_connect_timeout(url: &str, secs: u64) -> String {
    if url.contains("connect_timeout=") {
        url.to_owned()
    } else {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}connect_timeout={secs}")
    }
}

/// Sends r2d2's connection errors to the log (with the URL's password hidden by libpq's messages
/// never containing it).
#[derive(Debug)]
struct LogErrors;

impl r2d2::HandleError<diesel::r2d2::Error> for LogErrors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        let error = error
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        tracing::warn!(%error, "database connection failed");
    }
}

/// A pooled connection (dereferences to the connection); back to the pool when dropped.
pub struct PooledConn(r2d2::PooledConnection<Manager>);

impl std::ops::Deref for PooledConn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.0.conn
    }
}

impl std::ops::DerefMut for PooledConn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.0.conn
    }
}

impl Drop for PooledConn {
    fn drop(&mut self) {
        self.0.returned_at = Some(Instant::now());
    }
}

/// Creates `dir` (and its missing parents) readable by the owner only (mode 0700). A directory
/// that exists already keeps its mode (it may be shared: `/tmp`), with a warning — once per
/// process, however many parts of the server ask — when others can read it.
///
/// # Errors
/// IO errors.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    static WARNED: std::sync::Once = std::sync::Once::new();
    if dir.is_dir() {
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            WARNED.call_once(|| {
                tracing::warn!(
                    dir = %dir.display(),
                    mode = format!("{:o}", mode & 0o777),
                    "the data directory is readable by other users; chmod 700 it"
                );
            });
        }
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Creates the SQLite file readable and writable by the owner only (mode 0600) before SQLite
/// opens it — SQLite gives its `-wal` and `-shm` files the database file's mode — and narrows
/// an existing database file and its companions to 0600: they hold password hashes and the
/// audit log.
fn make_private_database(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let private = std::fs::Permissions::from_mode(0o600);
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?
        .set_permissions(private.clone())?;
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut companion = path.as_os_str().to_owned();
        companion.push(suffix);
        let companion = PathBuf::from(companion);
        if companion.exists() {
            std::fs::set_permissions(&companion, private.clone())?;
        }
    }
    Ok(())
}

/// The pool at one moment, and how often checkouts had to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStats {
    /// Most connections the pool opens.
    pub max_size: u32,
    /// Connections open (idle or checked out).
    pub connections: u32,
    /// Connections idle.
    pub idle: u32,
    /// Checkouts since start that found no idle connection and waited.
    pub waits: u64,
    /// Checkouts since start that got no connection within their timeout.
    pub timeouts: u64,
}

#[derive(Debug, Default)]
struct Checkouts {
    waits: AtomicU64,
    timeouts: AtomicU64,
}

/// The database: a connection pool of one backend.
#[derive(Clone, Debug)]
pub struct Database {
    pool: r2d2::Pool<Manager>,
    backend: Backend,
    checkouts: Arc<Checkouts>,
    /// How the pool connects, for connections kept outside it (the change listener).
    connector: Arc<Manager>,
}

impl Database {
    /// Opens a pool (creating the SQLite file and its directory when needed) and checks that one
    /// connection can be made.
    ///
    /// # Errors
    /// `StoreError::Unavailable` when no connection can be made within the timeout.
    pub fn open(url: &DatabaseUrl, options: &PoolOptions) -> Result<Self, StoreError> {
        if let DatabaseUrl::Sqlite(path) = url {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                create_private_dir(dir).map_err(|e| {
                    StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            make_private_database(path).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", path.display()))
            })?;
        }
        let backend = url.backend();
        let manager = Manager {
            url: url.clone(),
            connect_timeout_secs: options.connect_timeout.as_secs().max(1),
        };
        let connector = Arc::new(Manager {
            url: url.clone(),
            connect_timeout_secs: manager.connect_timeout_secs,
        });
        // One direct attempt first: a wrong URL or a server that is down fails at once, with
        // libpq's own message, instead of after the pool's retries.
        r2d2::ManageConnection::connect(&manager)
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to {url}: {e}")))?;
        let max_size = match backend {
            Backend::Postgres => options.max_size,
            // SQLite serialises writers; a few connections serve concurrent readers (WAL).
            Backend::Sqlite => options.max_size.min(8),
        };
        let pool = r2d2::Pool::builder()
            .max_size(max_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(options.connect_timeout)
            // Postgres connections die when the server restarts; checking on checkout lets the
            // pool replace them, so service resumes by itself.
            .test_on_check_out(backend == Backend::Postgres)
            .error_handler(Box::new(LogErrors))
            .build(manager)
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to {url}: {e}")))?;
        Ok(Self {
            pool,
            backend,
            checkouts: Arc::default(),
            connector,
        })
    }

    /// A new connection outside the pool, configured as the pool's are.
    ///
    /// # Errors
    /// `StoreError::Unavailable` when no connection can be made.
    pub fn dedicated_connection(&self) -> Result<AnyConnection, StoreError> {
        self.connector
            .connect_any()
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// The backend in use.
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Pooled connections idle at this moment (a checkout would not wait).
    #[must_use]
    pub fn idle_connections(&self) -> u32 {
        self.pool.state().idle_connections
    }

    /// The pool's size and load now, and its waits and timeouts so far (reads the pool's
    /// state under its lock: for metrics scrapes, not for every request).
    #[must_use]
    pub fn pool_stats(&self) -> PoolStats {
        let state = self.pool.state();
        PoolStats {
            max_size: self.pool.max_size(),
            connections: state.connections,
            idle: state.idle_connections,
            waits: self.checkouts.waits.load(Ordering::Relaxed),
            timeouts: self.checkouts.timeouts.load(Ordering::Relaxed),
        }
    }

    /// Applies pending migrations; returns the names of those applied. On Postgres, instances
    /// starting together on one database migrate it one after the other (an advisory lock on
    /// the schema): the first applies what is pending, the others then find nothing to apply.
    ///
    /// # Errors
    /// `StoreError::Migration` when a migration fails.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn()?;
        let applied = match &mut *conn {
            AnyConnection::Postgresql(c) => return migrate_postgres(c),
            AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        }
        .map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    }

    /// A connection from the pool.
    ///
    /// # Errors
    /// `StoreError::Unavailable` when none can be had within the pool's timeout.
    pub fn conn(&self) -> Result<PooledConn, StoreError> {
        self.checkout(self.pool.connection_timeout())
    }

    /// A connection, waiting at most `timeout`.
    ///
    /// # Errors
    /// `StoreError::Unavailable` when none can be had in time.
    pub fn conn_within(&self, timeout: Duration) -> Result<PooledConn, StoreError> {
        self.checkout(timeout)
    }

    /// An idle connection at once when there is one; otherwise waits (counted) up to `timeout`
    /// (a timeout counted too).
    fn checkout(&self, timeout: Duration) -> Result<PooledConn, StoreError> {
        if let Some(conn) = self.pool.try_get() {
            return Ok(PooledConn(conn));
        }
        self.checkouts.waits.fetch_add(1, Ordering::Relaxed);
        self.pool.get_timeout(timeout).map(PooledConn).map_err(|e| {
            self.checkouts.timeouts.fetch_add(1, Ordering::Relaxed);
            StoreError::Unavailable(e.to_string())
        })
    }
}

/// The advisory-lock class (`pg_advisory_lock(class, key)`) of schema migrations; the key is
/// the schema migrated, so that migrations of different schemas never wait on each other.
const MIGRATION_LOCK_CLASS: i32 = 0x7473_6D67;

/// Runs the pending Postgres migrations holding the schema's migration lock (session-level:
/// diesel runs each migration in a transaction of its own), released whatever happens.
fn migrate_postgres(c: &mut PgConnection) -> Result<Vec<String>, StoreError> {
    let lock = |c: &mut PgConnection, function: &str| {
        diesel::sql_query(format!(
            "SELECT {function}($1, hashtext(coalesce(current_schema(), '')))"
        ))
        .bind::<diesel::sql_types::Integer, _>(MIGRATION_LOCK_CLASS)
        .execute(c)
    };
    lock(c, "pg_advisory_lock").map_err(|e| StoreError::Migration(e.to_string()))?;
    let applied = c
        .run_pending_migrations(PG_MIGRATIONS)
        .map(|applied| applied.iter().map(ToString::to_string).collect())
        .map_err(|e| StoreError::Migration(e.to_string()));
    let unlocked = lock(c, "pg_advisory_unlock");
    let applied = applied?;
    unlocked.map_err(|e| StoreError::Migration(e.to_string()))?;
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_backend_by_scheme() {
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/x.db").unwrap(),
            DatabaseUrl::Sqlite("data/x.db".into())
        );
        assert!(DatabaseUrl::parse("mysql://u@h/db").is_err());
        assert!(DatabaseUrl::parse("postgres://").is_err());
        assert!(DatabaseUrl::parse("data/x.db").is_err());
    }

    #[test]
    fn passwords_never_show_in_urls() {
        let url = DatabaseUrl::parse("postgres://me:s3cret@db:5432/x").unwrap();
        assert_eq!(url.to_string(), "postgres://me:***@db:5432/x");
        assert!(!format!("{url:?}").contains("s3cret"));
        let err = DatabaseUrl::parse("mysql://me:s3cret@db/x").unwrap_err();
        assert!(!err.to_string().contains("s3cret"));
    }

    #[test]
    fn connect_timeout_is_added_once() {
        assert_eq!(
            with_connect_timeout("postgres://h/db", 3),
            "postgres://h/db?connect_timeout=3"
        );
        assert_eq!(
            with_connect_timeout("postgres://h/db?sslmode=disable", 3),
            "postgres://h/db?sslmode=disable&connect_timeout=3"
        );
        assert_eq!(
            with_connect_timeout("postgres://h/db?connect_timeout=9", 3),
            "postgres://h/db?connect_timeout=9"
        );
    }
}
