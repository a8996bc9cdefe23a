use chrono::{DateTime, Utc};

use crate::account::Account;
use crate::audit::AuditRecord;
use crate::ids::{AccessKeyId, AccountId, ServiceKeyId};
use crate::roles::RoleId;
use crate::user::{Login, User};

use super::RepoError;

/// An account about to be created, with its first owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    /// Name.
    pub name: String,
    /// Contact email.
    pub email: String,
    /// Parent, for a child account.
    pub parent_id: Option<AccountId>,
    /// The owner's login.
    pub owner_login: Login,
    /// The owner's email.
    pub owner_email: Option<String>,
    /// The owner's password hash.
    pub owner_password_hash: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// An access key for the owner, created with the account.
    pub owner_access_key: Option<InitialAccessKey>,
    /// A service key of the account, created with the account.
    pub service_key: Option<InitialServiceKey>,
}

/// The owner's first access key (the digest only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialAccessKey {
    /// Id.
    pub id: AccessKeyId,
    /// SHA-256 of the secret.
    pub secret_digest: Vec<u8>,
}

/// The account's first service key (the public half only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialServiceKey {
    /// Id.
    pub id: ServiceKeyId,
    /// Name.
    pub name: String,
    /// Public key, PEM.
    pub public_key_pem: String,
    /// Roles.
    pub roles: Vec<RoleId>,
}

/// What [`AccountRepo::create_account`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrappedAccount {
    /// The account.
    pub account: Account,
    /// Its owner (roles `Owner` and `Administrator`).
    pub owner: User,
}

/// A first-start bootstrap: the account plus the audit record, applied only on an empty database.
#[derive(Debug, Clone, PartialEq)]
pub struct BootstrapRecord {
    /// The account and owner.
    pub account: NewAccount,
    /// The audit record.
    pub audit: AuditRecord,
}

/// Changes to an account; `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountChanges {
    /// New name.
    pub name: Option<String>,
    /// New email.
    pub email: Option<String>,
    /// New active flag.
    pub active: Option<bool>,
    /// New longest key lifetime in days (`Some(None)` removes the limit).
    pub max_key_lifetime_days: Option<Option<u32>>,
    /// Whether password sign-in needs a second factor.
    pub require_mfa: Option<bool>,
}

/// Accounts.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait AccountRepo: Send + Sync {
    /// Creates an account, its owner (roles `Owner` + `Administrator`) and the initial keys, if
    /// any, in one transaction.
    /// The audit record's `account_id` is filled in with the new account's id.
    ///
    /// # Errors
    /// `NotFound` when `parent_id` names no account; `LimitReached` (creating nothing) when the
    /// parent already has `max_children` children, even when creations race: the count is
    /// checked in the inserting transaction, under the parent's lock.
    fn create_account(
        &self,
        account: &NewAccount,
        max_children: u32,
        audit: &AuditRecord,
    ) -> Result<BootstrappedAccount, RepoError>;

    /// Like [`AccountRepo::create`], but only when no account exists yet; `Ok(None)` otherwise.
    /// Safe against several instances starting at once on one database.
    ///
    /// # Errors
    /// Storage errors only.
    fn bootstrap(&self, record: &BootstrapRecord)
    -> Result<Option<BootstrappedAccount>, RepoError>;

    /// Whether any account exists (a cheap check before bootstrapping).
    ///
    /// # Errors
    /// Storage errors only.
    fn has_accounts(&self) -> Result<bool, RepoError>;

    /// The accounts whose parent is `parent`, by id.
    ///
    /// # Errors
    /// Storage errors only.
    fn list_child_accounts(&self, parent: AccountId) -> Result<Vec<Account>, RepoError>;

    /// Changes an account's settings.
    ///
    /// # Errors
    /// `NotFound`.
    fn update_account(
        &self,
        id: AccountId,
        changes: &AccountChanges,
        audit: &AuditRecord,
    ) -> Result<Account, RepoError>;

    /// The account `id`.
    ///
    /// # Errors
    /// MUST return `NotFound` when it does not exist.
    fn get_account(&self, id: AccountId) -> Result<Account, RepoError>;
}
