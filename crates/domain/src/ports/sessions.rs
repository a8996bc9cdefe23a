use chrono::{DateTime, Utc};

use crate::audit::AuditRecord;
use crate::ids::{AccountId, UserId};
use crate::keys::{Session, SignInMethod};

use super::RepoError;

/// A session about to be stored (the token's digest only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// SHA-256 of the token.
    pub token_digest: Vec<u8>,
    /// Account.
    pub account_id: AccountId,
    /// User.
    pub user_id: UserId,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// The client address it was opened from (recorded as the user's last sign-in).
    pub from: Option<String>,
    /// How it was opened.
    pub method: SignInMethod,
}

/// Password sessions.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait SessionRepo: Send + Sync {
    /// Stores a session and records it as the user's last sign-in (time and address), in one
    /// transaction.
    ///
    /// # Errors
    /// Storage errors only.
    fn create_session(&self, session: &NewSession, audit: &AuditRecord) -> Result<(), RepoError>;

    /// The session whose token has this digest.
    ///
    /// # Errors
    /// Storage errors only; an unknown token is `Ok(None)`.
    fn find_session(&self, token_digest: &[u8]) -> Result<Option<Session>, RepoError>;

    /// Ends a session.
    ///
    /// # Errors
    /// `NotFound` when no session has this digest.
    fn delete_session(&self, token_digest: &[u8], audit: &AuditRecord) -> Result<(), RepoError>;

    /// Removes sessions that expired before `now`; returns how many.
    ///
    /// # Errors
    /// Storage errors only.
    fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, RepoError>;
}
