//! Permission groups (Cloudflare): one per capability × level, with ids derived from the
//! capability's slug so that they never change between releases or instances.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};

use super::capability::{Capability, Level, Permission};
use crate::ids::{Hex32, PermissionGroupId};

/// A named, read-only group of permissions (here: exactly one capability at one level).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionGroup {
    /// Stable 32-hex id.
    pub id: PermissionGroupId,
    /// `User Management Write`.
    pub name: String,
    /// The permission the group grants (`write` implies `read`).
    pub permission: Permission,
}

impl PermissionGroup {
    /// The meta attribute shown on the wire: `{"key": "permission", "value": "user_management.write"}`.
    #[must_use]
    pub fn meta_value(&self) -> String {
        format!(
            "{}.{}",
            self.permission.capability.slug(),
            self.permission.level
        )
    }
}

fn stable_id(permission: Permission) -> PermissionGroupId {
    let digest = Sha256::digest(format!(
        "tessera:permission_group:{}:{}",
        permission.capability.slug(),
        permission.level
    ));
    let mut id = [0u8; 16];
    id.copy_from_slice(&digest[..16]);
    PermissionGroupId(Hex32(id))
}

static CATALOG: LazyLock<Vec<PermissionGroup>> = LazyLock::new(|| {
    Capability::ALL
        .iter()
        .flat_map(|c| {
            Level::ALL.into_iter().map(move |level| {
                let permission = Permission::new(*c, level);
                PermissionGroup {
                    id: stable_id(permission),
                    name: format!(
                        "{} {}",
                        c.name(),
                        match level {
                            Level::Read => "Read",
                            Level::Write => "Write",
                        }
                    ),
                    permission,
                }
            })
        })
        .collect()
});

/// Every permission group, capability order, `Read` before `Write`.
#[must_use]
pub fn catalog() -> &'static [PermissionGroup] {
    &CATALOG
}

/// The group with this id.
#[must_use]
pub fn by_id(id: PermissionGroupId) -> Option<&'static PermissionGroup> {
    CATALOG.iter().find(|g| g.id == id)
}

/// The group granting exactly `permission`.
#[must_use]
pub fn for_permission(permission: Permission) -> &'static PermissionGroup {
    let index = permission.capability.index() * 2 + usize::from(permission.level == Level::Write);
    &CATALOG[index]
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn one_group_per_capability_and_level_with_unique_ids_and_names() {
        assert_eq!(catalog().len(), Capability::ALL.len() * 2);
        let ids: HashSet<_> = catalog().iter().map(|g| g.id).collect();
        let names: HashSet<_> = catalog().iter().map(|g| g.name.clone()).collect();
        assert_eq!(ids.len(), catalog().len());
        assert_eq!(names.len(), catalog().len());
    }

    #[test]
    fn ids_are_stable_across_releases() {
        // Changing these breaks every stored policy: the ids are part of the public contract.
        let g = for_permission(Permission::write(Capability::UserManagement));
        assert_eq!(g.name, "User Management Write");
        assert_eq!(g.id.to_string(), "e6a972b83582072f0d52887cfcd7518d");
        let r = for_permission(Permission::read(Capability::AccountSettings));
        assert_eq!(r.id.to_string(), "9233af4e7c8e1561a4a9b4fecddb9df1");
        assert_eq!(r.name, "Account Settings Read");
        assert_eq!(by_id(g.id), Some(g));
        assert_eq!(g.meta_value(), "user_management.write");
    }

    #[test]
    fn for_permission_finds_the_matching_group() {
        for g in catalog() {
            assert_eq!(for_permission(g.permission), g);
        }
    }
}
