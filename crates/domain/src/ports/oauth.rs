//! OAuth tokens' storage: the signing keys, revoked access tokens and grants.

use chrono::{DateTime, Utc};

use crate::audit::AuditRecord;
use crate::ids::AccountId;
use crate::oauth::{Grant, GrantId, SigningKey};

use super::RepoError;

/// Signing keys, revoked tokens and grants.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait OAuthTokenRepo: Send + Sync {
    /// Every stored signing key (the current one and the retired ones not yet pruned), newest
    /// first.
    ///
    /// # Errors
    /// Storage errors only.
    fn signing_keys(&self) -> Result<Vec<SigningKey>, RepoError>;

    /// Stores `key` as the current key when there is none; answers whether it was stored.
    /// Two instances starting together both call it: exactly one key becomes current.
    ///
    /// # Errors
    /// Storage errors only (another current key is `Ok(false)`).
    fn create_first_signing_key(&self, key: &SigningKey) -> Result<bool, RepoError>;

    /// Makes `key` the current key: the current one is retired at `key.created_at`, in one
    /// transaction with `audit`.
    ///
    /// # Errors
    /// `Conflict` when another rotation committed meanwhile; storage errors.
    fn rotate_signing_key(&self, key: &SigningKey, audit: &AuditRecord) -> Result<(), RepoError>;

    /// Deletes the keys retired before `before`; answers how many.
    ///
    /// # Errors
    /// Storage errors only.
    fn prune_signing_keys(&self, before: DateTime<Utc>) -> Result<u64, RepoError>;

    /// Replaces key `kid`'s sealed private half with `fresh` if it is still `old`; answers
    /// whether it did (re-sealing).
    ///
    /// # Errors
    /// Storage errors only.
    fn replace_sealed_signing_key(
        &self,
        kid: &str,
        old: &[u8],
        fresh: &[u8],
    ) -> Result<bool, RepoError>;

    /// Revokes access token `jti` of `account` until `expires_at`, stamping the account's
    /// authorization version (cached principals let go) with `audit`; answers whether it was
    /// not revoked already (a second revocation changes nothing and writes no audit event).
    ///
    /// # Errors
    /// Storage errors only.
    fn revoke_token(
        &self,
        account: AccountId,
        jti: &str,
        expires_at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, RepoError>;

    /// Whether access token `jti` is revoked.
    ///
    /// # Errors
    /// Storage errors only.
    fn is_token_revoked(&self, jti: &str) -> Result<bool, RepoError>;

    /// Forgets revocations of tokens expired before `before`; answers how many.
    ///
    /// # Errors
    /// Storage errors only.
    fn prune_revoked_tokens(&self, before: DateTime<Utc>) -> Result<u64, RepoError>;

    /// Stores a new grant, with `audit`.
    ///
    /// # Errors
    /// `Conflict(Value)` for an id in use; storage errors.
    fn create_grant(&self, grant: &Grant, audit: &AuditRecord) -> Result<(), RepoError>;

    /// Grant `id` of `account`.
    ///
    /// # Errors
    /// `NotFound` when `account` has no such grant.
    fn get_grant(&self, account: AccountId, id: GrantId) -> Result<Grant, RepoError>;

    /// Revokes grant `id` of `account` at `at`, stamping the account's authorization version,
    /// with `audit`; answers whether it was not revoked already.
    ///
    /// # Errors
    /// `NotFound` when `account` has no such grant.
    fn revoke_grant(
        &self,
        account: AccountId,
        id: GrantId,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, RepoError>;

    /// Revokes every live grant to OAuth client `client_id` at `at` (the client was deleted),
    /// stamping each account concerned, with `audit` (one event); answers how many.
    ///
    /// # Errors
    /// Storage errors only.
    fn revoke_client_grants(
        &self,
        client_id: &str,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<u64, RepoError>;
}
