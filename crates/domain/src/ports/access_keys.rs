use chrono::{DateTime, Utc};

use crate::audit::AuditRecord;
use crate::authorized_ips::Network;
use crate::ids::{AccessKeyId, AccountId, UserId};
use crate::keys::{AccessKey, KeyStatus, KeyValidity, ValidityChange};

use super::{RepoError, Used};

/// An access key about to be stored (the secret's digest only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccessKey {
    /// Id.
    pub id: AccessKeyId,
    /// Account.
    pub account_id: AccountId,
    /// User.
    pub user_id: UserId,
    /// Name.
    pub name: Option<String>,
    /// SHA-256 of the secret.
    pub secret_digest: Vec<u8>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When it works.
    pub validity: KeyValidity,
}

/// Changes to an access key; `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessKeyChanges {
    /// New status.
    pub status: Option<KeyStatus>,
    /// New name (`Some(None)` clears it).
    pub name: Option<Option<String>>,
    /// New ends of its validity (checked by the use case); only the ends named are written.
    pub validity: ValidityChange,
    /// New `allowed_ips` (`Some(vec![])` clears them).
    pub allowed_ips: Option<Vec<Network>>,
}

/// An access key with its secret's digest, for authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyAuth {
    /// The key.
    pub key: AccessKey,
    /// SHA-256 of the secret.
    pub secret_digest: Vec<u8>,
}

/// Access keys.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait AccessKeyRepo: Send + Sync {
    /// Stores a key unless the user holds `limit` keys already.
    ///
    /// # Errors
    /// MUST return `LimitReached` (storing nothing) at the limit, even when creations race;
    /// `NotFound` when the user is not in the account.
    fn create_access_key(
        &self,
        key: &NewAccessKey,
        limit: u32,
        audit: &AuditRecord,
    ) -> Result<AccessKey, RepoError>;

    /// Key `id` with its digest, whatever its account (for authentication).
    ///
    /// # Errors
    /// Storage errors only; an unknown key is `Ok(None)`.
    fn find_access_key(&self, id: &AccessKeyId) -> Result<Option<AccessKeyAuth>, RepoError>;

    /// The keys of `user` in `account`, oldest first.
    ///
    /// # Errors
    /// Storage errors only.
    fn list_access_keys(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<Vec<AccessKey>, RepoError>;

    /// Every access key of `account`, ordered by user then creation (for the credential
    /// report: at most two per user).
    ///
    /// # Errors
    /// Storage errors only.
    fn list_account_access_keys(&self, account: AccountId) -> Result<Vec<AccessKey>, RepoError>;

    /// Key `id` of `user` in `account`.
    ///
    /// # Errors
    /// MUST return `NotFound` for a key of another user or account.
    fn get_access_key(
        &self,
        account: AccountId,
        user: UserId,
        id: &AccessKeyId,
    ) -> Result<AccessKey, RepoError>;

    /// Changes status, name or validity (a new status or validity stamps the account's
    /// authorization version).
    ///
    /// # Errors
    /// `NotFound` as for [`AccessKeyRepo::get_access_key`].
    fn update_access_key(
        &self,
        account: AccountId,
        user: UserId,
        id: &AccessKeyId,
        changes: &AccessKeyChanges,
        audit: &AuditRecord,
    ) -> Result<AccessKey, RepoError>;

    /// Deletes a key.
    ///
    /// # Errors
    /// `NotFound` as for [`AccessKeyRepo::get_access_key`].
    fn delete_access_key(
        &self,
        account: AccountId,
        user: UserId,
        id: &AccessKeyId,
        audit: &AuditRecord,
    ) -> Result<(), RepoError>;

    /// Records when, and from which client address, keys were last used (a batch, at most
    /// once a minute per key); a key deleted meanwhile is skipped.
    ///
    /// # Errors
    /// Storage errors only.
    fn touch_access_keys(&self, uses: &[Used<AccessKeyId>]) -> Result<(), RepoError>;
}
