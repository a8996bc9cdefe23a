use crate::entity::{Entity, Field};

/// What a repository can report. Adapters map their own errors (diesel, r2d2) onto this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepoError {
    /// The object does not exist in the given account (or at all).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; names what clashed (`login`, `name`, …).
    #[error("{0} is not unique")]
    Conflict(Field),
    /// A per-owner limit (keys) is reached; the change was not made.
    #[error("limit reached")]
    LimitReached,
    /// The object is still referenced (a resource group used by a policy).
    #[error("still in use by {0}")]
    InUse(Entity),
    /// The change would leave an account without an active owner.
    #[error("an account must keep at least one active owner")]
    LastOwner,
    /// The storage cannot be reached right now (retry later).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else (a bug or corrupted data).
    #[error("storage error: {0}")]
    Internal(String),
}
