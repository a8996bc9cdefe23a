use chrono::{DateTime, Utc};

use crate::audit::AuditRecord;
use crate::authorized_ips::Network;
use crate::ids::{AccountId, ServiceKeyId, UserId};
use crate::keys::{KeyValidity, ServiceKey, ValidityChange};
use crate::roles::RoleId;

use super::{ListQuery, Page, RepoError, RoleChange, Used};

/// A service key about to be stored (public half only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewServiceKey {
    /// Id.
    pub id: ServiceKeyId,
    /// Account.
    pub account_id: AccountId,
    /// Owner user; `None` = the account.
    pub owner: Option<UserId>,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Public key, PEM (SubjectPublicKeyInfo).
    pub public_key_pem: String,
    /// Roles.
    pub roles: Vec<RoleId>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When it works.
    pub validity: KeyValidity,
}

/// Changes to a service key; `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceKeyChanges {
    /// New name.
    pub name: Option<String>,
    /// New description (`Some(None)` clears it).
    pub description: Option<Option<String>>,
    /// New ends of its validity (checked by the use case); only the ends named are written.
    pub validity: ValidityChange,
    /// New `allowed_ips` (`Some(vec![])` clears them).
    pub allowed_ips: Option<Vec<Network>>,
}

/// A service key with its public key, for verifying JWTs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceKeyAuth {
    /// The key.
    pub key: ServiceKey,
    /// Public key, PEM.
    pub public_key_pem: String,
}

/// Service keys and their roles.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait ServiceKeyRepo: Send + Sync {
    /// Stores a key, unless its owner (the user, or the account for account keys) already holds
    /// `limit` keys.
    ///
    /// # Errors
    /// MUST return `LimitReached` (and store nothing) at the limit, even when creations race.
    fn create_service_key(
        &self,
        key: &NewServiceKey,
        limit: u32,
        audit: &AuditRecord,
    ) -> Result<ServiceKey, RepoError>;

    /// Key `id` of `account`.
    ///
    /// # Errors
    /// MUST return `NotFound` for a key of another account.
    fn get_service_key(
        &self,
        account: AccountId,
        id: ServiceKeyId,
    ) -> Result<ServiceKey, RepoError>;

    /// Key `id` with its public key, whatever its account (for JWT verification).
    ///
    /// # Errors
    /// Storage errors only; an unknown key is `Ok(None)`.
    fn find_service_key(&self, id: ServiceKeyId) -> Result<Option<ServiceKeyAuth>, RepoError>;

    /// A page of the account's keys (those of `owner` only, when given), ordered by id;
    /// `query.expiry` filters on `expires_at`.
    ///
    /// # Errors
    /// Storage errors only.
    fn list_service_keys(
        &self,
        account: AccountId,
        owner: Option<UserId>,
        query: &ListQuery,
    ) -> Result<Page<ServiceKey>, RepoError>;

    /// Renames or re-describes a key, or changes its validity (which stamps the account's
    /// authorization version).
    ///
    /// # Errors
    /// `NotFound` as for [`ServiceKeyRepo::get_service_key`].
    fn update_service_key(
        &self,
        account: AccountId,
        id: ServiceKeyId,
        changes: &ServiceKeyChanges,
        audit: &AuditRecord,
    ) -> Result<ServiceKey, RepoError>;

    /// Changes a key's roles.
    ///
    /// # Errors
    /// `NotFound` as for [`ServiceKeyRepo::get_service_key`].
    fn change_service_key_roles(
        &self,
        account: AccountId,
        id: ServiceKeyId,
        change: &RoleChange,
        audit: &AuditRecord,
    ) -> Result<ServiceKey, RepoError>;

    /// Deletes a key; its JWTs fail from the next request.
    ///
    /// # Errors
    /// `NotFound` as for [`ServiceKeyRepo::get_service_key`].
    fn delete_service_key(
        &self,
        account: AccountId,
        id: ServiceKeyId,
        audit: &AuditRecord,
    ) -> Result<(), RepoError>;

    /// The keys of `user` holding any of `roles`.
    ///
    /// # Errors
    /// Storage errors only.
    fn keys_holding_roles(
        &self,
        account: AccountId,
        user: UserId,
        roles: &[RoleId],
    ) -> Result<Vec<ServiceKeyId>, RepoError>;

    /// Records when, and from which client address, keys were last used (a batch, at most
    /// once a minute per key); a key deleted meanwhile is skipped.
    ///
    /// # Errors
    /// Storage errors only.
    fn touch_service_keys(&self, uses: &[Used<ServiceKeyId>]) -> Result<(), RepoError>;
}
