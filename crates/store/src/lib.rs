#![doc = include_str!("../README.md")]

mod access_keys;
mod accounts;
mod attempts;
mod audit;
mod authorized_ips;
pub mod db;
pub mod epoch;
mod error;
mod groups;
mod health;
pub mod listen;
mod mfa;
mod oauth_clients;
mod oauth_flow;
mod oauth_tokens;
pub mod schema;
mod service_keys;
mod sessions;
mod sso;
mod sso_logins;
mod time;
mod tx;
mod users;
mod users_create;

#[cfg(feature = "test-support")]
pub mod testing;

pub use db::{Backend, Database, DatabaseUrl, PoolOptions, PoolStats};
pub use error::StoreError;

/// The persistence adapter: implements every repository port of `tessera-domain` over one
/// [`Database`].
#[derive(Clone, Debug)]
pub struct Store {
    db: Database,
}

impl Store {
    /// A store over `db`.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// The database underneath.
    #[must_use]
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// How many accounts exist.
    ///
    /// # Errors
    /// `StoreError::Unavailable` when the database cannot be reached.
    pub fn count_accounts(&self) -> Result<i64, StoreError> {
        use diesel::prelude::*;
        let mut conn = self.db.conn()?;
        Ok(schema::accounts::table.count().get_result(&mut *conn)?)
    }

    /// The latest authorization version, over every account (see [`epoch`]).
    ///
    /// # Errors
    /// `StoreError::Unavailable` when the database cannot be reached.
    pub fn authz_version(&self) -> Result<i64, StoreError> {
        let mut conn = self.db.conn()?;
        epoch::latest(&mut conn)
    }
}

diesel::define_sql_function! {
    /// SQL `lower(text)`, the same on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// A `LIKE` pattern matching `needle` anywhere, with `%`, `_` and `\` escaped (use with
/// `.escape('\\')`).
pub(crate) fn like_pattern(needle: &str) -> String {
    let mut p = String::with_capacity(needle.len() + 2);
    p.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}
