//! Throw-away databases for tests: a fresh SQLite file, or a fresh schema in the Postgres named
//! by `TEST_DATABASE_URL`. Both are migrated and removed when dropped, so tests run in parallel.
//!
//! Set `TESSERA_REQUIRE_POSTGRES=1` (CI does) to make a missing or unreachable
//! `TEST_DATABASE_URL` fail the Postgres half of the tests instead of skipping it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use diesel::prelude::*;

use crate::{Backend, Database, DatabaseUrl, PoolOptions, Store};

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "tessera_t{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

enum Cleanup {
    Dir(PathBuf),
    Schema { admin_url: String, schema: String },
}

/// A migrated, empty database that disappears when dropped.
pub struct TestDatabase {
    /// Its URL (give it to a server under test).
    pub url: DatabaseUrl,
    /// An open pool.
    pub db: Database,
    cleanup: Cleanup,
}

impl TestDatabase {
    /// A fresh SQLite file in a temporary directory.
    ///
    /// # Panics
    /// When the file cannot be created or migrated.
    #[must_use]
    pub fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(unique_name());
        std::fs::create_dir_all(&dir).expect("create temp dir");
        let url = DatabaseUrl::sqlite(dir.join("tessera.db"));
        let db = Database::open(&url, &PoolOptions::default()).expect("open sqlite");
        db.migrate().expect("migrate sqlite");
        Self {
            url,
            db,
            cleanup: Cleanup::Dir(dir),
        }
    }

    /// A fresh schema in `TEST_DATABASE_URL`, or `None` (with a note on stderr) when the variable
    /// is unset.
    ///
    /// # Panics
    /// When `TEST_DATABASE_URL` is unset and `TESSERA_REQUIRE_POSTGRES=1`, or when the database
    /// cannot be reached or migrated.
    #[must_use]
    pub fn postgres() -> Option<Self> {
        let fresh = Self::postgres_unmigrated()?;
        fresh.db.migrate().expect("migrate postgres");
        Some(fresh)
    }

    /// Like [`TestDatabase::postgres`], but with no migration applied: an empty schema.
    ///
    /// # Panics
    /// When `TEST_DATABASE_URL` is unset and `TESSERA_REQUIRE_POSTGRES=1`, or when the database
    /// cannot be reached.
    #[must_use]
    pub fn postgres_unmigrated() -> Option<Self> {
        let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
            assert!(
                std::env::var("TESSERA_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "TESSERA_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set"
            );
            eprintln!("postgres: skipped (TEST_DATABASE_URL is not set)");
            return None;
        };
        let schema = unique_name();
        let mut admin = PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but unreachable: {e}"));
        diesel::sql_query(format!("CREATE SCHEMA {schema}"))
            .execute(&mut admin)
            .expect("create schema");
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        let url =
            DatabaseUrl::Postgres(format!("{admin_url}{sep}options=-csearch_path%3D{schema}"));
        let db = Database::open(
            &url,
            &PoolOptions {
                max_size: 8,
                ..PoolOptions::default()
            },
        )
        .expect("open postgres");
        Some(Self {
            url,
            db,
            cleanup: Cleanup::Schema { admin_url, schema },
        })
    }

    /// A fresh database of `backend` (`None` for Postgres without `TEST_DATABASE_URL`).
    #[must_use]
    pub fn of(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite()),
            Backend::Postgres => Self::postgres(),
        }
    }

    /// A store over this database.
    #[must_use]
    pub fn store(&self) -> Store {
        Store::new(self.db.clone())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ignored = std::fs::remove_dir_all(dir);
            }
            Cleanup::Schema { admin_url, schema } => {
                if let Ok(mut admin) = PgConnection::establish(admin_url) {
                    let _ignored =
                        diesel::sql_query(format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                            .execute(&mut admin);
                }
            }
        }
    }
}

/// Declares each listed test twice, in modules `sqlite` and `postgres`: every function
/// `fn name(db: &TestDatabase)` runs on a fresh database of each backend. The Postgres copies
/// skip (and say so) when `TEST_DATABASE_URL` is unset.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name(&$crate::testing::TestDatabase::sqlite());
                }
            )+
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    if let Some(db) = $crate::testing::TestDatabase::postgres() {
                        super::$name(&db);
                    }
                }
            )+
        }
    };
}
