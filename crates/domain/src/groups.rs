//! Cloudflare-style IAM objects: resource groups, user groups with their policies, and members.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::{AccountId, PermissionGroupId, PolicyId, ResourceGroupId, UserGroupId, UserId};
use crate::policy::{Effect, Scope};

/// `{key, value}` attributes (Cloudflare's `meta`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Key.
    pub key: Option<String>,
    /// Value.
    pub value: Option<String>,
}

/// A named set of objects of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceGroup {
    /// Id.
    pub id: ResourceGroupId,
    /// Account.
    pub account_id: AccountId,
    /// Name, unique in the account.
    pub name: String,
    /// Attributes.
    pub meta: Option<Meta>,
    /// What it covers.
    pub scope: Scope,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A policy of a user group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Id.
    pub id: PolicyId,
    /// Allow or deny.
    pub access: Effect,
    /// Permission groups (from the fixed catalog).
    pub permission_groups: Vec<PermissionGroupId>,
    /// Resource groups of the same account.
    pub resource_groups: Vec<ResourceGroupId>,
}

/// A group of users sharing policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserGroup {
    /// Id.
    pub id: UserGroupId,
    /// Account.
    pub account_id: AccountId,
    /// Name, unique in the account.
    pub name: String,
    /// Policies, in order.
    pub policies: Vec<Policy>,
    /// Creation time.
    pub created_on: DateTime<Utc>,
    /// Last change.
    pub modified_on: DateTime<Utc>,
}

/// A membership's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberStatus {
    /// In force.
    Accepted,
    /// Invited; its policies do not apply yet.
    Pending,
}

impl MemberStatus {
    /// Wire and storage name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Pending => "pending",
        }
    }

    /// Parses a wire or storage name.
    ///
    /// # Errors
    /// `Invalid` naming `status`.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "accepted" => Ok(Self::Accepted),
            "pending" => Ok(Self::Pending),
            _ => Err(DomainError::invalid(
                "status",
                "must be accepted or pending",
            )),
        }
    }
}

/// A member of a user group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The user.
    pub user_id: UserId,
    /// The user's email.
    pub email: Option<String>,
    /// Status.
    pub status: MemberStatus,
}

/// Most policies one user group may have.
pub const MAX_POLICIES: usize = 50;

/// Most resource groups one policy may name.
pub const MAX_POLICY_RESOURCE_GROUPS: usize = 50;

/// Most objects a user group's policies may name in all (each policy's resource groups'
/// objects, added up): what a member's compiled policies hold, bounded.
pub const MAX_GROUP_OBJECTS: usize = 10_000;

/// Longest group name.
pub const MAX_GROUP_NAME_LEN: usize = 100;

/// Checks a group name: 1–100 characters, not only spaces.
///
/// # Errors
/// `Invalid` naming `name`.
pub fn check_group_name(name: &str) -> Result<(), DomainError> {
    if name.trim().is_empty() || name.chars().count() > MAX_GROUP_NAME_LEN {
        Err(DomainError::invalid("name", "must be 1 to 100 characters"))
    } else {
        Ok(())
    }
}
