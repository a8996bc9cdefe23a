//! Cloudflare-style IAM: resource groups, user groups with allow/deny policies, and members.
//!
//! Policies reach people: every change that alters what a group's members may do (its policies,
//! its members, the scope of a resource group its policies name, deleting it) is a grant. The
//! caller must be able to manage every member whose permissions change and hold every
//! permission handed out: each allow added, each deny lifted.

use tessera_domain::DomainError;
use tessera_domain::groups::{
    MAX_GROUP_OBJECTS, MAX_POLICIES, MAX_POLICY_RESOURCE_GROUPS, Meta, Policy, ResourceGroup,
};
use tessera_domain::ids::{AccountId, PermissionGroupId, PolicyId, ResourceGroupId};
use tessera_domain::permissions::Level;
use tessera_domain::permissions::{Capability, Permission, groups as catalog};
use tessera_domain::policy::{Effect, Scope, ScopeObjects};

mod members;
mod resource_groups;
mod user_groups;

use crate::App;
use crate::error::AppResult;

pub(crate) const READ: Permission = Permission::read(Capability::UserManagement);
pub(crate) const WRITE: Permission = Permission::write(Capability::UserManagement);

/// A resource group as given by a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceGroupInput {
    /// Name.
    pub name: String,
    /// Attributes.
    pub meta: Option<Meta>,
    /// Scope entries: `(key, object keys)`; every key must name the caller's account.
    pub scope: Vec<(String, Vec<String>)>,
}

/// A policy as given by a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyInput {
    /// The id sent back on an update: kept when the group already has a policy with it (so ids
    /// stay stable across a read-modify-write); otherwise a new id is generated.
    pub id: Option<PolicyId>,
    /// Allow or deny.
    pub access: Effect,
    /// Permission groups.
    pub permission_groups: Vec<PermissionGroupId>,
    /// Resource groups of the same account.
    pub resource_groups: Vec<ResourceGroupId>,
}

/// Merges the scope entries into one scope of `account`.
fn scope_of(account: AccountId, entries: &[(String, Vec<String>)]) -> AppResult<Scope> {
    if entries.is_empty() {
        return Err(DomainError::invalid("scope", "must name the account and its objects").into());
    }
    let mut merged: Option<Scope> = None;
    for (key, objects) in entries {
        let scope = Scope::from_keys(key, objects)?;
        if scope.account != account {
            return Err(DomainError::invalid(
                "scope.key",
                format!("must be {} (this account)", Scope::account_key(account)),
            )
            .into());
        }
        merged = Some(match (merged, scope.objects) {
            (None, objects) => Scope { account, objects },
            (
                Some(Scope {
                    objects: ScopeObjects::Everything,
                    ..
                }),
                _,
            )
            | (Some(_), ScopeObjects::Everything) => Scope {
                account,
                objects: ScopeObjects::Everything,
            },
            (
                Some(Scope {
                    objects: ScopeObjects::Only(mut a),
                    ..
                }),
                ScopeObjects::Only(b),
            ) => {
                a.extend(b);
                a.sort();
                a.dedup();
                Scope {
                    account,
                    objects: ScopeObjects::Only(a),
                }
            }
        });
    }
    merged.ok_or_else(|| DomainError::invalid("scope", "is empty").into())
}

/// Refuses when the policies (each given as the resource groups it names) name more than
/// [`MAX_GROUP_OBJECTS`] objects in all: a member's compiled policies stay bounded.
pub(crate) fn check_group_objects<'a>(
    policies: impl Iterator<Item = &'a [ResourceGroupId]>,
    groups: &[ResourceGroup],
) -> AppResult<()> {
    let objects: usize = policies
        .flat_map(|rgs| rgs.iter())
        .filter_map(|rg| groups.iter().find(|g| g.id == *rg))
        .map(|g| match &g.scope.objects {
            ScopeObjects::Everything => 1,
            ScopeObjects::Only(keys) => keys.len(),
        })
        .sum();
    if objects > MAX_GROUP_OBJECTS {
        return Err(DomainError::invalid(
            "policies.resource_groups",
            format!("a user group's policies name at most {MAX_GROUP_OBJECTS} objects in all"),
        )
        .into());
    }
    Ok(())
}

/// `items` without repeats, in the order first given (a policy naming a group twice names it
/// once).
fn first_of_each<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// What a permission group's permission takes away when denied: denying `read` denies `write`
/// too, so lifting such a deny gives both back.
fn lifted(p: Permission) -> [Permission; 2] {
    match p.level {
        Level::Read => [p, Permission::write(p.capability)],
        Level::Write => [p, p],
    }
}

/// What policies hand out or take away, and where: one entry per permission and resource group.
fn grants_of(policies: &[Policy]) -> Vec<(Effect, Permission, ResourceGroupId)> {
    let mut out: Vec<(Effect, Permission, ResourceGroupId)> = policies
        .iter()
        .flat_map(|p| {
            p.permission_groups
                .iter()
                .filter_map(|pg| catalog::by_id(*pg).map(|g| g.permission))
                .flat_map(move |perm| {
                    p.resource_groups
                        .iter()
                        .map(move |rg| (p.access, perm, *rg))
                })
        })
        .collect();
    out.sort_unstable_by_key(|(e, p, rg)| (e.as_str(), *p, *rg));
    out.dedup();
    out
}

/// The permissions that changing policies from `before` to `after` hands to the members: every
/// allow added, and every deny lifted (sorted, without duplicates).
pub(crate) fn handed_out(before: &[Policy], after: &[Policy]) -> Vec<Permission> {
    let (old, new) = (grants_of(before), grants_of(after));
    let mut out: Vec<Permission> = new
        .iter()
        .filter(|g| g.0 == Effect::Allow && !old.contains(g))
        .map(|g| g.1)
        .chain(
            old.iter()
                .filter(|g| g.0 == Effect::Deny && !new.contains(g))
                .flat_map(|g| lifted(g.1)),
        )
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether changing policies from `before` to `after` changes anything a member may do.
pub(crate) fn reach_changes(before: &[Policy], after: &[Policy]) -> bool {
    grants_of(before) != grants_of(after)
}

impl App {
    /// Validates policies and builds them, keeping the ids of `current` policies sent back
    /// (fresh ids otherwise). What they hand out is checked by the caller (`handed_out`).
    fn build_policies(
        &self,
        account: AccountId,
        inputs: Vec<PolicyInput>,
        current: &[Policy],
    ) -> AppResult<Vec<Policy>> {
        if inputs.len() > MAX_POLICIES {
            return Err(DomainError::invalid(
                "policies",
                format!("a user group has at most {MAX_POLICIES} policies"),
            )
            .into());
        }
        let mut wanted_rgs = Vec::new();
        for p in &inputs {
            if p.resource_groups.len() > MAX_POLICY_RESOURCE_GROUPS {
                return Err(DomainError::invalid(
                    "policies.resource_groups",
                    format!("a policy names at most {MAX_POLICY_RESOURCE_GROUPS} resource groups"),
                )
                .into());
            }
            if p.permission_groups.is_empty() {
                return Err(DomainError::invalid(
                    "policies.permission_groups",
                    "must name at least one permission group",
                )
                .into());
            }
            if p.resource_groups.is_empty() {
                return Err(DomainError::invalid(
                    "policies.resource_groups",
                    "must name at least one resource group",
                )
                .into());
            }
            if let Some(pg) = p
                .permission_groups
                .iter()
                .find(|pg| catalog::by_id(**pg).is_none())
            {
                return Err(DomainError::invalid(
                    "policies.permission_groups",
                    format!("unknown permission group {pg}"),
                )
                .into());
            }
            wanted_rgs.extend(p.resource_groups.iter().copied());
        }
        wanted_rgs.sort();
        wanted_rgs.dedup();
        let found: Vec<ResourceGroup> = if wanted_rgs.is_empty() {
            Vec::new()
        } else {
            self.ports
                .resource_groups
                .find_resource_groups(account, &wanted_rgs)?
        };
        if let Some(missing) = wanted_rgs
            .iter()
            .find(|rg| !found.iter().any(|g| g.id == **rg))
        {
            return Err(DomainError::invalid(
                "policies.resource_groups",
                format!("unknown resource group {missing}"),
            )
            .into());
        }
        let named = inputs.iter().map(|p| p.resource_groups.as_slice());
        check_group_objects(named, &found)?;
        let mut kept: Vec<PolicyId> = Vec::with_capacity(inputs.len());
        Ok(inputs
            .into_iter()
            .map(|p| {
                let id = match p.id {
                    Some(id) if current.iter().any(|c| c.id == id) && !kept.contains(&id) => id,
                    _ => PolicyId(self.ports.ids.hex32()),
                };
                kept.push(id);
                Policy {
                    id,
                    access: p.access,
                    permission_groups: first_of_each(p.permission_groups),
                    resource_groups: first_of_each(p.resource_groups),
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_entries_merge_and_must_name_this_account() {
        let a = AccountId(3);
        let s = scope_of(
            a,
            &[
                (
                    "com.tessera.api.account.3".into(),
                    vec!["com.tessera.api.account.user.1".into()],
                ),
                (
                    "com.tessera.api.account.3".into(),
                    vec!["com.tessera.api.account.user.2".into()],
                ),
            ],
        )
        .unwrap();
        assert_eq!(s.object_keys().len(), 2);
        let star = scope_of(a, &[("com.tessera.api.account.3".into(), vec!["*".into()])]).unwrap();
        assert_eq!(star.objects, ScopeObjects::Everything);
        let err =
            scope_of(a, &[("com.tessera.api.account.4".into(), vec!["*".into()])]).unwrap_err();
        assert!(err.to_string().contains("scope.key"), "{err}");
        assert!(scope_of(a, &[]).is_err());
    }

    fn policy(access: Effect, pgs: &[&str], rgs: &[u8]) -> Policy {
        use tessera_domain::ids::Hex32;
        Policy {
            id: PolicyId(Hex32([0; 16])),
            access,
            permission_groups: pgs
                .iter()
                .map(|name| {
                    catalog::catalog()
                        .iter()
                        .find(|g| g.name == *name)
                        .expect("a permission group")
                        .id
                })
                .collect(),
            resource_groups: rgs
                .iter()
                .map(|n| ResourceGroupId(Hex32([*n; 16])))
                .collect(),
        }
    }

    #[test]
    fn policy_changes_hand_out_added_allows_and_lifted_denies() {
        use tessera_domain::permissions::Capability::{CallLogs, UserManagement};
        let allow_um = policy(Effect::Allow, &["User Management Write"], &[1]);
        let deny_logs = policy(Effect::Deny, &["Call Logs Read"], &[1]);
        assert_eq!(
            handed_out(&[], std::slice::from_ref(&allow_um)),
            vec![Permission::write(UserManagement)]
        );
        assert!(
            handed_out(std::slice::from_ref(&allow_um), &[]).is_empty(),
            "removing an allow"
        );
        assert!(
            handed_out(&[], std::slice::from_ref(&deny_logs)).is_empty(),
            "adding a deny"
        );
        assert_eq!(
            handed_out(std::slice::from_ref(&deny_logs), &[]),
            vec![Permission::read(CallLogs), Permission::write(CallLogs)],
            "lifting a deny of read gives write back too"
        );
        let same = [allow_um.clone(), deny_logs.clone()];
        assert!(handed_out(&same, &same).is_empty());
        assert!(!reach_changes(&same, &same));
        let wider = policy(Effect::Allow, &["User Management Write"], &[1, 2]);
        assert_eq!(
            handed_out(
                std::slice::from_ref(&allow_um),
                std::slice::from_ref(&wider)
            ),
            vec![Permission::write(UserManagement)],
            "the same allow on another resource group is handed out anew"
        );
        assert!(reach_changes(&[allow_um], &[]));
    }
}
