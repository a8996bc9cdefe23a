//! The store's own errors, mapped onto the ports' `RepoError` in one place.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use tessera_domain::Field;
use tessera_domain::ports::RepoError;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection could be had (pool timeout, server down).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A query failed.
    #[error(transparent)]
    Query(#[from] DieselError),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// `database.url` is not usable.
    #[error("invalid database url {0}")]
    InvalidUrl(String),
    /// A row holds a value the domain rejects (corrupted or hand-edited data).
    #[error("unreadable row: {0}")]
    Corrupt(String),
    /// A rule the repository enforces inside its transaction.
    #[error(transparent)]
    Rule(RepoError),
}

impl StoreError {
    /// Whether the error is a unique-constraint violation.
    #[must_use]
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            Self::Query(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

/// Maps a unique violation to `Conflict(field)`, leaving other errors alone.
pub(crate) fn unique_as(field: Field) -> impl FnOnce(DieselError) -> StoreError {
    move |e| match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            StoreError::Rule(RepoError::Conflict(field))
        }
        other => StoreError::Query(other),
    }
}

fn is_connection_failure(kind: &DatabaseErrorKind, message: &str) -> bool {
    matches!(kind, DatabaseErrorKind::ClosedConnection)
        || message.contains("database is locked")
        || message.contains("server closed the connection")
        || message.contains("terminating connection")
        || message.contains("could not connect")
        || message.contains("no connection to the server")
}

impl From<StoreError> for RepoError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Rule(rule) => rule,
            StoreError::Unavailable(m) => RepoError::Unavailable(m),
            StoreError::Query(DieselError::NotFound) => RepoError::NotFound,
            StoreError::Query(DieselError::DatabaseError(kind, info))
                if is_connection_failure(&kind, info.message()) =>
            {
                RepoError::Unavailable(info.message().to_owned())
            }
            StoreError::Query(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _,
            )) => RepoError::Conflict(Field::Value),
            StoreError::Query(DieselError::BrokenTransactionManager) => {
                RepoError::Unavailable("connection lost during a transaction".into())
            }
            StoreError::Query(other) => RepoError::Internal(other.to_string()),
            StoreError::Migration(m) | StoreError::InvalidUrl(m) | StoreError::Corrupt(m) => {
                RepoError::Internal(m)
            }
        }
    }
}

/// `NotFound` when a statement aimed at one row changed `rows` = 0 of them.
pub(crate) fn found(rows: usize) -> Result<(), StoreError> {
    if rows == 0 {
        Err(StoreError::Rule(RepoError::NotFound))
    } else {
        Ok(())
    }
}
