use chrono::{DateTime, Utc};

use crate::audit::AuditRecord;
use crate::groups::{Member, MemberStatus, Policy, ResourceGroup, UserGroup};
use crate::ids::{AccountId, ResourceGroupId, UserGroupId, UserId};
use crate::policy::PolicyRule;

use super::{ListQuery, Page, RepoError};

/// Resource groups.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait ResourceGroupRepo: Send + Sync {
    /// Stores a new group.
    ///
    /// # Errors
    /// `Conflict(Field::Name)` when the account has a group of that name.
    fn create_resource_group(
        &self,
        group: &ResourceGroup,
        audit: &AuditRecord,
    ) -> Result<ResourceGroup, RepoError>;

    /// Group `id` of `account`.
    ///
    /// # Errors
    /// MUST return `NotFound` for a group of another account.
    fn get_resource_group(
        &self,
        account: AccountId,
        id: ResourceGroupId,
    ) -> Result<ResourceGroup, RepoError>;

    /// A page of the account's groups, ordered by id.
    ///
    /// # Errors
    /// Storage errors only.
    fn list_resource_groups(
        &self,
        account: AccountId,
        query: &ListQuery,
    ) -> Result<Page<ResourceGroup>, RepoError>;

    /// Replaces the name, meta and scope of group `group.id` of `group.account_id` (its
    /// `updated_at` becomes `group.updated_at`; `created_at` is ignored).
    ///
    /// # Errors
    /// `NotFound`; `Conflict(Field::Name)`.
    fn update_resource_group(
        &self,
        group: &ResourceGroup,
        audit: &AuditRecord,
    ) -> Result<ResourceGroup, RepoError>;

    /// Deletes a group.
    ///
    /// # Errors
    /// `NotFound`; `InUse(Entity::Policy)` while a policy names it.
    fn delete_resource_group(
        &self,
        account: AccountId,
        id: ResourceGroupId,
        audit: &AuditRecord,
    ) -> Result<(), RepoError>;

    /// The groups of `account` among `ids` (unknown ids are left out), in one query.
    ///
    /// # Errors
    /// Storage errors only.
    fn find_resource_groups(
        &self,
        account: AccountId,
        ids: &[ResourceGroupId],
    ) -> Result<Vec<ResourceGroup>, RepoError>;
}

/// User groups, their policies and members.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait UserGroupRepo: Send + Sync {
    /// Stores a new group with its policies.
    ///
    /// # Errors
    /// `Conflict(Field::Name)`.
    fn create_user_group(
        &self,
        group: &UserGroup,
        audit: &AuditRecord,
    ) -> Result<UserGroup, RepoError>;

    /// Group `id` of `account` with its policies.
    ///
    /// # Errors
    /// MUST return `NotFound` for a group of another account.
    fn get_user_group(&self, account: AccountId, id: UserGroupId) -> Result<UserGroup, RepoError>;

    /// A page of the account's groups with their policies, ordered by id, in a constant number
    /// of queries.
    ///
    /// # Errors
    /// Storage errors only.
    fn list_user_groups(
        &self,
        account: AccountId,
        query: &ListQuery,
    ) -> Result<Page<UserGroup>, RepoError>;

    /// Replaces a group's name and policies.
    ///
    /// # Errors
    /// `NotFound`; `Conflict(Field::Name)`.
    fn replace_user_group(
        &self,
        account: AccountId,
        id: UserGroupId,
        name: &str,
        policies: &[Policy],
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<UserGroup, RepoError>;

    /// Deletes a group with its policies and memberships.
    ///
    /// # Errors
    /// `NotFound`.
    fn delete_user_group(
        &self,
        account: AccountId,
        id: UserGroupId,
        audit: &AuditRecord,
    ) -> Result<(), RepoError>;

    /// The account's user groups with a policy naming resource group `resource_group`, with
    /// their policies.
    ///
    /// # Errors
    /// Storage errors only.
    fn user_groups_using(
        &self,
        account: AccountId,
        resource_group: ResourceGroupId,
    ) -> Result<Vec<UserGroup>, RepoError>;

    /// The group's members.
    ///
    /// # Errors
    /// `NotFound` for an unknown group.
    fn list_members(
        &self,
        account: AccountId,
        group: UserGroupId,
    ) -> Result<Vec<Member>, RepoError>;

    /// Adds members (or updates their status); with `replace`, removes everyone else.
    ///
    /// # Errors
    /// `NotFound` for an unknown group or a user not in the account.
    fn set_members(
        &self,
        account: AccountId,
        group: UserGroupId,
        members: &[(UserId, MemberStatus)],
        replace: bool,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Vec<Member>, RepoError>;

    /// Removes one member; returns it.
    ///
    /// # Errors
    /// `NotFound` for an unknown group or a user who is not a member.
    fn remove_member(
        &self,
        account: AccountId,
        group: UserGroupId,
        user: UserId,
        audit: &AuditRecord,
    ) -> Result<Member, RepoError>;
}

/// What the policy engine needs from storage.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait AuthzRepo: Send + Sync {
    /// The policies that apply to `user`: those of the groups it is an accepted member of, with
    /// permission groups resolved and resource groups' scopes loaded, in a constant number of
    /// queries.
    ///
    /// # Errors
    /// Storage errors only.
    fn policy_rules_for_user(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<Vec<PolicyRule>, RepoError>;

    /// The latest authorization version (0 before any change): every change that can alter a
    /// decision in an account stamps that account with a new, larger version.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    fn authz_version(&self) -> Result<i64, RepoError>;

    /// The accounts stamped with a version above `after`, oldest first, at most `limit` (an
    /// account appears once, with its latest version).
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    fn authz_changes(&self, after: i64, limit: usize) -> Result<Vec<AuthzChange>, RepoError>;
}

/// An account whose authorization data changed, and the version that change stamped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthzChange {
    /// The account.
    pub account: AccountId,
    /// Its version now.
    pub version: i64,
}
