use chrono::{DateTime, Utc};

use crate::audit::AuditRecord;
use crate::ids::{AccountId, UserId};
use crate::roles::RoleId;
use crate::user::{Login, User, UserStatus};

use super::{ListQuery, Page, RepoError};

/// A user about to be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Account.
    pub account_id: AccountId,
    /// Login (validated).
    pub login: Login,
    /// Email (validated).
    pub email: Option<String>,
    /// Phone number (validated).
    pub phone_number: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Status.
    pub status: UserStatus,
    /// Argon2id PHC string, when the user may sign in with a password.
    pub password_hash: Option<String>,
    /// Roles.
    pub roles: Vec<RoleId>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// Changes to a user; `None` leaves a field alone, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChanges {
    /// New email.
    pub email: Option<Option<String>>,
    /// New phone number.
    pub phone_number: Option<Option<String>>,
    /// New description.
    pub description: Option<Option<String>>,
    /// New status.
    pub status: Option<UserStatus>,
    /// New password hash (ends every session and sign-in challenge of the user, in the same
    /// transaction).
    pub password_hash: Option<String>,
    /// The complete new set of roles.
    pub roles: Option<Vec<RoleId>>,
    /// Change time.
    pub updated_at: DateTime<Utc>,
}

/// A change to a user's roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleChange {
    /// Add these roles (keeping the others).
    Add(Vec<RoleId>),
    /// Remove these roles; with `from_keys`, remove them from the user's service keys too.
    Remove {
        /// Roles to remove.
        roles: Vec<RoleId>,
        /// Also strip them from the user's keys.
        from_keys: bool,
    },
    /// Replace the whole set.
    Replace(Vec<RoleId>),
}

impl RoleChange {
    /// The role set after applying the change to `current` (sorted, without duplicates).
    #[must_use]
    pub fn apply(&self, current: &[RoleId]) -> Vec<RoleId> {
        let mut after: Vec<RoleId> = match self {
            Self::Add(roles) => current.iter().chain(roles).copied().collect(),
            Self::Remove { roles, .. } => current
                .iter()
                .filter(|r| !roles.contains(r))
                .copied()
                .collect(),
            Self::Replace(roles) => roles.clone(),
        };
        after.sort_unstable();
        after.dedup();
        after
    }
}

/// A user with its password hash, for password sign-in only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserWithSecret {
    /// The user.
    pub user: User,
    /// Argon2id PHC string, if the user has a password.
    pub password_hash: Option<String>,
}

/// Users and their roles.
///
/// Every method that changes data takes the audit record to write in the same transaction.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait UserRepo: Send + Sync {
    /// Creates a user with its roles, unless the account already has `limit` users.
    ///
    /// # Errors
    /// MUST return `Conflict(Field::Login)` when the account already has that login, and
    /// `LimitReached` (creating nothing) when it has `limit` users, even when creations race:
    /// the count is checked in the transaction that inserts, under the account's lock.
    fn create_user(
        &self,
        user: &NewUser,
        limit: u32,
        audit: &AuditRecord,
    ) -> Result<User, RepoError>;

    /// Creates a user like [`UserRepo::create_user`] unless the account already has a user
    /// whose email is `user.email` (compared as [`UserRepo::find_users_by_email`] does):
    /// `Ok(None)` then, creating nothing. The users created at SSO sign-in: two first sign-ins
    /// of one address at once must create one user, not two (which would make the address
    /// ambiguous, refusing every later sign-in).
    ///
    /// # Errors
    /// As [`UserRepo::create_user`]; the check MUST be made in the transaction that inserts,
    /// under the account's lock, so that racing creations see each other.
    fn create_user_unless_email_taken(
        &self,
        user: &NewUser,
        limit: u32,
        audit: &AuditRecord,
    ) -> Result<Option<User>, RepoError>;

    /// The user `id` of `account`.
    ///
    /// # Errors
    /// MUST return `NotFound` when no such user exists in `account` (a user of another account
    /// is not found).
    fn get_user(&self, account: AccountId, id: UserId) -> Result<User, RepoError>;

    /// The users of `account` among `ids` (unknown ids are left out), with their roles, in a
    /// constant number of queries.
    ///
    /// # Errors
    /// Storage errors only.
    fn get_users(&self, account: AccountId, ids: &[UserId]) -> Result<Vec<User>, RepoError>;

    /// The account's users whose email is `email` (ASCII letters compared case-insensitively,
    /// every other character exactly: Unicode case folding must not make two addresses one),
    /// with their roles; at most 10.
    ///
    /// # Errors
    /// Storage errors only.
    fn find_users_by_email(&self, account: AccountId, email: &str) -> Result<Vec<User>, RepoError>;

    /// The user with this login in `account`, with its password hash.
    ///
    /// # Errors
    /// Storage errors only; an unknown login is `Ok(None)`.
    fn find_user_by_login(
        &self,
        account: AccountId,
        login: &Login,
    ) -> Result<Option<UserWithSecret>, RepoError>;

    /// A page of the account's users with their roles, ordered by id, in a constant number of
    /// queries whatever the page size.
    ///
    /// # Errors
    /// Storage errors only.
    fn list_users(&self, account: AccountId, query: &ListQuery) -> Result<Page<User>, RepoError>;

    /// How many users the account has.
    ///
    /// # Errors
    /// Storage errors only.
    fn count_users(&self, account: AccountId) -> Result<i64, RepoError>;

    /// Applies `changes` (profile, status, password and roles) in one transaction: all or
    /// nothing. A new password hash deletes every session of the user in that transaction.
    ///
    /// # Errors
    /// `NotFound` as for [`UserRepo::get_user`]; MUST return `LastOwner` (and change nothing)
    /// when the change would leave the account with no active owner.
    fn update_user(
        &self,
        account: AccountId,
        id: UserId,
        changes: &UserChanges,
        audit: &AuditRecord,
    ) -> Result<User, RepoError>;

    /// Changes the user's roles.
    ///
    /// # Errors
    /// `NotFound` as for [`UserRepo::get_user`]; `LastOwner` as for [`UserRepo::update_user`].
    fn change_user_roles(
        &self,
        account: AccountId,
        id: UserId,
        change: &RoleChange,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<User, RepoError>;

    /// Deletes the user with its roles, keys, sessions and group memberships.
    ///
    /// # Errors
    /// `NotFound` as for [`UserRepo::get_user`]; `LastOwner` when the user is the last active owner.
    fn delete_user(
        &self,
        account: AccountId,
        id: UserId,
        audit: &AuditRecord,
    ) -> Result<(), RepoError>;
}
