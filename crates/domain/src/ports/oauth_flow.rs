use chrono::{DateTime, Utc};

use crate::oauth::{AuthorizationCode, CodeRedemption, RefreshRotation, RefreshToken};

use super::RepoError;

/// Authorization codes and refresh tokens of the authorization code flow (stored as digests).
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait OAuthFlowRepo: Send + Sync {
    /// Stores an issued code.
    ///
    /// # Errors
    /// Storage errors only (a digest clash is `Internal`: codes are random).
    fn store_code(&self, code: &AuthorizationCode) -> Result<(), RepoError>;

    /// Spends the code whose digest is `digest`, atomically: of several concurrent callers
    /// exactly one gets [`CodeRedemption::Redeemed`]; every later one gets
    /// [`CodeRedemption::Replayed`] (until the code is purged). Expiry is the caller's to check.
    ///
    /// # Errors
    /// Storage errors only; an unknown code is `Ok(CodeRedemption::Unknown)`.
    fn redeem_code(&self, digest: &[u8], now: DateTime<Utc>) -> Result<CodeRedemption, RepoError>;

    /// Stores a refresh token.
    ///
    /// # Errors
    /// Storage errors only.
    fn store_refresh(&self, token: &RefreshToken) -> Result<(), RepoError>;

    /// The refresh token whose digest is `digest`, spent or not.
    ///
    /// # Errors
    /// Storage errors only; an unknown one is `Ok(None)`.
    fn find_refresh(&self, digest: &[u8]) -> Result<Option<RefreshToken>, RepoError>;

    /// Spends the refresh token `old` (marks it used at `now`) and stores `new`, atomically,
    /// only if `old` was unspent: of several concurrent callers exactly one gets
    /// [`RefreshRotation::Rotated`]; the others get [`RefreshRotation::Replayed`] and store
    /// nothing.
    ///
    /// # Errors
    /// `NotFound` when `old` does not exist.
    fn rotate_refresh(
        &self,
        old: &[u8],
        new: &RefreshToken,
        now: DateTime<Utc>,
    ) -> Result<RefreshRotation, RepoError>;

    /// Spends every refresh token and code of `grant_id` (the grant was revoked); returns how
    /// many were live.
    ///
    /// # Errors
    /// Storage errors only.
    fn spend_grant(&self, grant_id: &str, now: DateTime<Utc>) -> Result<u64, RepoError>;

    /// Removes codes and refresh tokens past their retention at `now`; returns how many.
    ///
    /// # Errors
    /// Storage errors only.
    fn purge_oauth_flow(&self, now: DateTime<Utc>) -> Result<u64, RepoError>;
}
