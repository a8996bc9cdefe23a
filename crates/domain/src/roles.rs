//! The built-in role catalog: Voximplant's service-account roles and Restcomm's four user roles,
//! with stable numeric ids, role groups, parent/child roles and each role's permissions.

use std::fmt;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::permissions::matrix::{self, Access, RestcommRole};
use crate::permissions::{Capability, PermSet, Permission};

/// A role's id. Ids never change: clients store them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RoleId(pub i64);

impl fmt::Display for RoleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A role group's id (`GetRoleGroups`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RoleGroupId(pub i64);

/// A group of roles, as `GetRoleGroups` lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleGroup {
    /// Stable id.
    pub id: RoleGroupId,
    /// Name (`GetRoles` filters on it).
    pub name: &'static str,
}

/// Who a role may grant to others, on top of the rule that a grantor holds every permission of
/// the granted role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleAccess {
    /// No role.
    Nothing,
    /// Any role.
    Any,
    /// Only these Restcomm roles (the matrix's Role Access row).
    Only(&'static [RestcommRole]),
}

/// A role of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Role {
    /// Stable id.
    pub id: RoleId,
    /// Unique name.
    pub name: &'static str,
    /// Groups listing the role.
    pub groups: &'static [RoleGroupId],
    /// The parent role, whose permissions include this role's.
    pub parent: Option<RoleId>,
    /// Whether the role is shown only in the control panel (never true here: every role can be
    /// given to users and keys alike).
    pub gui_only: bool,
    /// Set for the four Restcomm roles.
    pub restcomm: Option<RestcommRole>,
}

/// Well-known role ids.
pub mod ids {
    use super::RoleId;
    /// Owner: everything in the account.
    pub const OWNER: RoleId = RoleId(1);
    /// Admin.
    pub const ADMIN: RoleId = RoleId(2);
    /// Developer (Restcomm's Developer column).
    pub const DEVELOPER: RoleId = RoleId(3);
    /// Support.
    pub const SUPPORT: RoleId = RoleId(4);
    /// Supervisor.
    pub const SUPERVISOR: RoleId = RoleId(5);
    /// Accountant.
    pub const ACCOUNTANT: RoleId = RoleId(6);
    /// CallList Manager.
    pub const CALL_LIST_MANAGER: RoleId = RoleId(7);
    /// Verification.
    pub const VERIFICATION: RoleId = RoleId(8);
    /// Scenarios.
    pub const SCENARIOS: RoleId = RoleId(9);
    /// CallHistory.
    pub const CALL_HISTORY: RoleId = RoleId(10);
    /// User Manager (parent of User Read and User Update).
    pub const USER_MANAGER: RoleId = RoleId(11);
    /// User Read.
    pub const USER_READ: RoleId = RoleId(12);
    /// User Update.
    pub const USER_UPDATE: RoleId = RoleId(13);
    /// ACD Manager (parent of ACD Stats and ACD Management).
    pub const ACD_MANAGER: RoleId = RoleId(14);
    /// ACD Stats.
    pub const ACD_STATS: RoleId = RoleId(15);
    /// ACD Management.
    pub const ACD_MANAGEMENT: RoleId = RoleId(16);
    /// Restcomm Administrator.
    pub const ADMINISTRATOR: RoleId = RoleId(17);
    /// Restcomm Turnkey Applications Administrator.
    pub const TURNKEY_ADMINISTRATOR: RoleId = RoleId(18);
    /// Restcomm Turnkey Applications Developer.
    pub const TURNKEY_DEVELOPER: RoleId = RoleId(19);
}

const ACCOUNT: RoleGroupId = RoleGroupId(1);
const DEVELOPMENT: RoleGroupId = RoleGroupId(2);
const CONTACT_CENTER: RoleGroupId = RoleGroupId(3);
const USERS: RoleGroupId = RoleGroupId(4);
const SUPPORT: RoleGroupId = RoleGroupId(5);
const RESTCOMM: RoleGroupId = RoleGroupId(6);

/// The role groups.
pub const ROLE_GROUPS: &[RoleGroup] = &[
    RoleGroup {
        id: ACCOUNT,
        name: "Account",
    },
    RoleGroup {
        id: DEVELOPMENT,
        name: "Development",
    },
    RoleGroup {
        id: CONTACT_CENTER,
        name: "Contact center",
    },
    RoleGroup {
        id: USERS,
        name: "Users",
    },
    RoleGroup {
        id: SUPPORT,
        name: "Support",
    },
    RoleGroup {
        id: RESTCOMM,
        name: "Restcomm",
    },
];

const fn role(
    id: RoleId,
    name: &'static str,
    groups: &'static [RoleGroupId],
    parent: Option<RoleId>,
    restcomm: Option<RestcommRole>,
) -> Role {
    Role {
        id,
        name,
        groups,
        parent,
        gui_only: false,
        restcomm,
    }
}

/// The catalog, by id.
pub const ROLES: &[Role] = &[
    role(ids::OWNER, "Owner", &[ACCOUNT], None, None),
    role(ids::ADMIN, "Admin", &[ACCOUNT], None, None),
    role(
        ids::DEVELOPER,
        "Developer",
        &[DEVELOPMENT, RESTCOMM],
        None,
        Some(RestcommRole::Developer),
    ),
    role(ids::SUPPORT, "Support", &[SUPPORT], None, None),
    role(ids::SUPERVISOR, "Supervisor", &[CONTACT_CENTER], None, None),
    role(ids::ACCOUNTANT, "Accountant", &[ACCOUNT], None, None),
    role(
        ids::CALL_LIST_MANAGER,
        "CallList Manager",
        &[CONTACT_CENTER],
        None,
        None,
    ),
    role(ids::VERIFICATION, "Verification", &[ACCOUNT], None, None),
    role(ids::SCENARIOS, "Scenarios", &[DEVELOPMENT], None, None),
    role(ids::CALL_HISTORY, "CallHistory", &[SUPPORT], None, None),
    role(ids::USER_MANAGER, "User Manager", &[USERS], None, None),
    role(
        ids::USER_READ,
        "User Read",
        &[USERS],
        Some(ids::USER_MANAGER),
        None,
    ),
    role(
        ids::USER_UPDATE,
        "User Update",
        &[USERS],
        Some(ids::USER_MANAGER),
        None,
    ),
    role(
        ids::ACD_MANAGER,
        "ACD Manager",
        &[CONTACT_CENTER],
        None,
        None,
    ),
    role(
        ids::ACD_STATS,
        "ACD Stats",
        &[CONTACT_CENTER],
        Some(ids::ACD_MANAGER),
        None,
    ),
    role(
        ids::ACD_MANAGEMENT,
        "ACD Management",
        &[CONTACT_CENTER],
        Some(ids::ACD_MANAGER),
        None,
    ),
    role(
        ids::ADMINISTRATOR,
        "Administrator",
        &[RESTCOMM],
        None,
        Some(RestcommRole::Administrator),
    ),
    role(
        ids::TURNKEY_ADMINISTRATOR,
        "Turnkey Applications Administrator",
        &[RESTCOMM],
        None,
        Some(RestcommRole::TurnkeyAdministrator),
    ),
    role(
        ids::TURNKEY_DEVELOPER,
        "Turnkey Applications Developer",
        &[RESTCOMM],
        None,
        Some(RestcommRole::TurnkeyDeveloper),
    ),
];

impl Role {
    /// The role with this id.
    ///
    /// # Errors
    /// [`DomainError::UnknownRoleId`] when no role has it.
    pub fn by_id(id: RoleId) -> Result<&'static Role, DomainError> {
        ROLES
            .iter()
            .find(|r| r.id == id)
            .ok_or(DomainError::UnknownRoleId(id.0))
    }

    /// The role with this name (exact match).
    ///
    /// # Errors
    /// [`DomainError::UnknownRoleName`] when no role has it.
    pub fn by_name(name: &str) -> Result<&'static Role, DomainError> {
        ROLES
            .iter()
            .find(|r| r.name == name)
            .ok_or_else(|| DomainError::UnknownRoleName(name.to_owned()))
    }

    /// The roles whose parent is this role.
    pub fn children(&self) -> impl Iterator<Item = &'static Role> + '_ {
        ROLES.iter().filter(move |r| r.parent == Some(self.id))
    }

    /// Everything the role grants (its children's permissions included).
    #[must_use]
    pub fn permissions(&self) -> PermSet {
        PERMISSIONS[self.index()]
    }

    /// Which roles the role may grant (before the permission-subset rule).
    #[must_use]
    pub fn role_access(&self) -> RoleAccess {
        match (self.id, self.restcomm) {
            (ids::OWNER | ids::ADMIN, _) => RoleAccess::Any,
            (_, Some(r)) if !r.role_access().is_empty() => RoleAccess::Only(r.role_access()),
            _ => RoleAccess::Nothing,
        }
    }

    /// Whether the role belongs to the group named `group`.
    #[must_use]
    pub fn in_group(&self, group: &str) -> bool {
        self.groups
            .iter()
            .any(|g| ROLE_GROUPS.iter().any(|rg| rg.id == *g && rg.name == group))
    }

    fn index(&self) -> usize {
        ROLES
            .iter()
            .position(|r| r.id == self.id)
            .expect("catalog roles are in ROLES")
    }
}

fn reads(caps: &[Capability]) -> PermSet {
    caps.iter().map(|c| Permission::read(*c)).collect()
}

fn writes(caps: &[Capability]) -> PermSet {
    caps.iter().map(|c| Permission::write(*c)).collect()
}

/// The permissions of a Restcomm role, read off the matrix.
fn restcomm_permissions(r: RestcommRole) -> PermSet {
    matrix::MATRIX
        .iter()
        .filter_map(|row| match row.cells[r.column()] {
            Access::None => None,
            Access::Read => Some(Permission::read(row.capability)),
            Access::Write => Some(Permission::write(row.capability)),
        })
        .collect()
}

fn own_permissions(role: &Role) -> PermSet {
    use Capability as C;
    if let Some(r) = role.restcomm {
        return restcomm_permissions(r);
    }
    match role.id {
        ids::OWNER => PermSet::all(),
        ids::ADMIN => Capability::ALL
            .iter()
            .filter(|c| {
                !matches!(
                    c,
                    C::FeatureAccessControl | C::EnterpriseAccounts | C::PartnerManagement
                )
            })
            .map(|c| Permission::write(*c))
            .collect(),
        ids::SUPPORT => reads(&[
            C::AccountSettings,
            C::CallLogs,
            C::SmsLogs,
            C::Recordings,
            C::Usage,
            C::Notifications,
        ]),
        ids::SUPERVISOR => reads(&[
            C::CallLogs,
            C::Recordings,
            C::Usage,
            C::TrProvisioning,
            C::TrUsageRecords,
            C::TrEnterpriseUsers,
            C::TrSearch,
        ]),
        ids::ACCOUNTANT => reads(&[C::AccountSettings, C::Usage]),
        ids::CALL_LIST_MANAGER => writes(&[C::CmCampaigns]).union(reads(&[C::CmUsageRecords])),
        ids::VERIFICATION => writes(&[C::AccountSettings]),
        ids::SCENARIOS => writes(&[C::Applications, C::VisualDesigner]),
        ids::CALL_HISTORY => reads(&[C::CallLogs, C::SmsLogs, C::Recordings, C::RecordingsContent]),
        ids::USER_READ => reads(&[C::UserManagement]),
        ids::USER_UPDATE => writes(&[C::UserManagement]),
        ids::ACD_STATS => reads(&[C::TrUsageRecords]),
        ids::ACD_MANAGEMENT => writes(&[C::TrProvisioning]),
        // Parents (User Manager, ACD Manager) hold only what their children hold.
        _ => PermSet::EMPTY,
    }
}

static PERMISSIONS: LazyLock<Vec<PermSet>> = LazyLock::new(|| {
    ROLES
        .iter()
        .map(|r| {
            r.children().fold(own_permissions(r), |acc, child| {
                acc.union(own_permissions(child))
            })
        })
        .collect()
});

/// The union of the permissions of `roles`.
#[must_use]
pub fn permissions_of(roles: &[RoleId]) -> PermSet {
    roles
        .iter()
        .filter_map(|id| Role::by_id(*id).ok())
        .fold(PermSet::EMPTY, |acc, r| acc.union(r.permissions()))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_and_names_are_unique() {
        let ids: HashSet<_> = ROLES.iter().map(|r| r.id).collect();
        let names: HashSet<_> = ROLES.iter().map(|r| r.name).collect();
        assert_eq!(ids.len(), ROLES.len());
        assert_eq!(names.len(), ROLES.len());
    }

    #[test]
    fn every_role_is_in_a_known_group() {
        for r in ROLES {
            assert!(!r.groups.is_empty(), "{} has no group", r.name);
            for g in r.groups {
                assert!(ROLE_GROUPS.iter().any(|rg| rg.id == *g));
            }
        }
    }

    #[test]
    fn parents_hold_their_childrens_permissions() {
        let manager = Role::by_id(ids::USER_MANAGER).unwrap();
        let children: Vec<_> = manager.children().map(|r| r.id).collect();
        assert_eq!(children, vec![ids::USER_READ, ids::USER_UPDATE]);
        assert_eq!(
            manager.permissions(),
            PermSet::of(Permission::write(Capability::UserManagement))
        );
        let acd = Role::by_id(ids::ACD_MANAGER).unwrap();
        assert!(
            acd.permissions()
                .contains(Permission::read(Capability::TrUsageRecords))
        );
        assert!(
            acd.permissions()
                .contains(Permission::write(Capability::TrProvisioning))
        );
    }

    #[test]
    fn developer_is_one_role_defined_by_the_restcomm_column() {
        let dev = Role::by_name("Developer").unwrap();
        assert_eq!(dev.id, ids::DEVELOPER);
        assert!(dev.in_group("Development") && dev.in_group("Restcomm"));
        assert_eq!(
            dev.permissions(),
            restcomm_permissions(RestcommRole::Developer)
        );
    }

    #[test]
    fn owner_holds_everything_and_admin_all_but_three() {
        assert_eq!(
            Role::by_id(ids::OWNER).unwrap().permissions(),
            PermSet::all()
        );
        let admin = Role::by_id(ids::ADMIN).unwrap().permissions();
        assert_eq!(admin.highest().count(), Capability::ALL.len() - 3);
        assert!(!admin.contains(Permission::read(Capability::EnterpriseAccounts)));
        assert!(admin.contains(Permission::write(Capability::AuditApi)));
    }

    #[test]
    fn unknown_ids_and_names_are_errors() {
        assert_eq!(
            Role::by_id(RoleId(999)),
            Err(DomainError::UnknownRoleId(999))
        );
        assert_eq!(
            Role::by_name("Root"),
            Err(DomainError::UnknownRoleName("Root".into()))
        );
    }

    #[test]
    fn role_access_follows_the_matrix() {
        let admin = Role::by_id(ids::ADMINISTRATOR).unwrap();
        assert_eq!(admin.role_access(), RoleAccess::Only(&RestcommRole::ALL));
        let taa = Role::by_id(ids::TURNKEY_ADMINISTRATOR).unwrap();
        assert_eq!(
            taa.role_access(),
            RoleAccess::Only(&[
                RestcommRole::TurnkeyAdministrator,
                RestcommRole::TurnkeyDeveloper
            ])
        );
        assert_eq!(
            Role::by_id(ids::DEVELOPER).unwrap().role_access(),
            RoleAccess::Nothing
        );
        assert_eq!(
            Role::by_id(ids::OWNER).unwrap().role_access(),
            RoleAccess::Any
        );
    }
}
