use chrono::{DateTime, Utc};

use crate::audit::AuditRecord;
use crate::ids::{AccountId, SessionId, UserId};
use crate::keys::{Session, SignInMethod};

use super::{Page, RepoError, Used};

/// A session about to be stored (the token's digest only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// Public id (random, unrelated to the token).
    pub id: SessionId,
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
    /// The client address it was opened from (recorded with the session and as the user's
    /// last sign-in).
    pub from: Option<String>,
    /// How it was opened.
    pub method: SignInMethod,
}

/// Which page of a user's sessions to read: newest first, `limit` of them after skipping
/// `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPage {
    /// Page size (already clamped by the caller).
    pub limit: u32,
    /// Sessions skipped.
    pub offset: u64,
}

/// Sessions.
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

    /// A page of the user's sessions that are live at `now` (newest first), with how many are
    /// live in all: two queries, whatever the number of sessions.
    ///
    /// # Errors
    /// Storage errors only; an unknown user has no sessions.
    fn list_sessions(
        &self,
        account: AccountId,
        user: UserId,
        now: DateTime<Utc>,
        page: SessionPage,
    ) -> Result<Page<Session>, RepoError>;

    /// Ends the session whose token has this digest, and stamps its account's authorization
    /// version (cached principals everywhere let go of it), with the audit record, in one
    /// transaction.
    ///
    /// # Errors
    /// `NotFound` when no session has this digest.
    fn delete_session(&self, token_digest: &[u8], audit: &AuditRecord) -> Result<(), RepoError>;

    /// Ends session `id` of `user` in `account` (only that user's), as
    /// [`SessionRepo::delete_session`] does.
    ///
    /// # Errors
    /// `NotFound` when that user has no session `id`.
    fn delete_session_by_id(
        &self,
        account: AccountId,
        user: UserId,
        id: SessionId,
        audit: &AuditRecord,
    ) -> Result<(), RepoError>;

    /// Ends every session of `user` in `account`, as [`SessionRepo::delete_session`] does;
    /// returns how many there were.
    ///
    /// # Errors
    /// Storage errors only.
    fn delete_user_sessions(
        &self,
        account: AccountId,
        user: UserId,
        audit: &AuditRecord,
    ) -> Result<u64, RepoError>;

    /// Records the last use of sessions (a batch; sessions ended meanwhile are skipped).
    ///
    /// # Errors
    /// Storage errors only.
    fn touch_sessions(&self, uses: &[Used<SessionId>]) -> Result<(), RepoError>;

    /// Removes sessions that expired before `now`; returns how many.
    ///
    /// # Errors
    /// Storage errors only.
    fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, RepoError>;
}
