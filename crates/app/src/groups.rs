//! Cloudflare-style IAM: resource groups, user groups with allow/deny policies, and members.

use serde_json::json;
use tessera_domain::DomainError;
use tessera_domain::Entity;
use tessera_domain::audit::RequestMeta;
use tessera_domain::groups::{
    Member, MemberStatus, Meta, Policy, ResourceGroup, UserGroup, check_group_name,
};
use tessera_domain::ids::{
    AccountId, PermissionGroupId, PolicyId, ResourceGroupId, UserGroupId, UserId,
};
use tessera_domain::permissions::{Capability, Permission, groups as catalog};
use tessera_domain::policy::{self, Effect, Scope, ScopeObjects};
use tessera_domain::ports::{ListQuery, Page};

use crate::App;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;

const READ: Permission = Permission::read(Capability::UserManagement);
const WRITE: Permission = Permission::write(Capability::UserManagement);

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

impl App {
    /// Validates policies and builds them with fresh ids; refuses permission groups the caller
    /// does not hold (no escalation).
    fn build_policies(
        &self,
        principal: &Principal,
        account: AccountId,
        inputs: Vec<PolicyInput>,
        current: &[Policy],
    ) -> AppResult<Vec<Policy>> {
        let mut held = Vec::new();
        let mut wanted_rgs = Vec::new();
        for p in &inputs {
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
            for pg in &p.permission_groups {
                let group = catalog::by_id(*pg).ok_or_else(|| {
                    DomainError::invalid(
                        "policies.permission_groups",
                        format!("unknown permission group {pg}"),
                    )
                })?;
                held.push(group.permission);
            }
            wanted_rgs.extend(p.resource_groups.iter().copied());
        }
        wanted_rgs.sort();
        wanted_rgs.dedup();
        let existing: Vec<ResourceGroupId> = self
            .ports
            .resource_groups
            .find_resource_groups(account, &wanted_rgs)?
            .into_iter()
            .map(|g| g.id)
            .collect();
        if let Some(missing) = wanted_rgs.iter().find(|rg| !existing.contains(rg)) {
            return Err(DomainError::invalid(
                "policies.resource_groups",
                format!("unknown resource group {missing}"),
            )
            .into());
        }
        let d = policy::check_permissions(&principal.subject, account, &[], held);
        if !d.allowed {
            return Err(AppError::Forbidden(d.reasons));
        }
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
                    permission_groups: p.permission_groups,
                    resource_groups: p.resource_groups,
                }
            })
            .collect())
    }

    // ------------------------------------------------------------ resource groups

    /// Creates a resource group.
    ///
    /// # Errors
    /// `Invalid` (a scope key naming another account is refused); `Conflict(Field::Name)`;
    /// `Forbidden` without User Management write.
    pub fn create_resource_group(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        input: ResourceGroupInput,
    ) -> AppResult<ResourceGroup> {
        self.authorize(principal, account, WRITE, None)?;
        check_group_name(&input.name)?;
        let scope = scope_of(account, &input.scope)?;
        let now = self.ports.clock.now();
        let group = ResourceGroup {
            id: ResourceGroupId(self.ports.ids.hex32()),
            account_id: account,
            name: input.name,
            meta: input.meta,
            scope,
            created_at: now,
            updated_at: now,
        };
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "resource_group.create",
            None,
            json!({ "name": group.name }),
        );
        self.ports
            .resource_groups
            .create_resource_group(&group, &audit)
            .map_err(AppError::from_repo(Entity::ResourceGroup))
    }

    /// One resource group.
    ///
    /// # Errors
    /// `NotFound(Entity::ResourceGroup)`; `Forbidden`.
    pub fn get_resource_group(
        &self,
        principal: &Principal,
        account: AccountId,
        id: ResourceGroupId,
    ) -> AppResult<ResourceGroup> {
        self.authorize(principal, account, READ, None)?;
        self.ports
            .resource_groups
            .get_resource_group(account, id)
            .map_err(AppError::from_repo(Entity::ResourceGroup))
    }

    /// A page of resource groups.
    ///
    /// # Errors
    /// `Forbidden`.
    pub fn list_resource_groups(
        &self,
        principal: &Principal,
        account: AccountId,
        query: &ListQuery,
    ) -> AppResult<Page<ResourceGroup>> {
        self.authorize(principal, account, READ, None)?;
        Ok(self
            .ports
            .resource_groups
            .list_resource_groups(account, query)?)
    }

    /// Replaces a resource group's name, meta and scope.
    ///
    /// # Errors
    /// As for creation, plus `NotFound`.
    pub fn update_resource_group(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        id: ResourceGroupId,
        input: ResourceGroupInput,
    ) -> AppResult<ResourceGroup> {
        self.authorize(principal, account, WRITE, None)?;
        check_group_name(&input.name)?;
        let scope = scope_of(account, &input.scope)?;
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "resource_group.update",
            None,
            json!({ "name": input.name }),
        );
        let now = self.ports.clock.now();
        let group = ResourceGroup {
            id,
            account_id: account,
            name: input.name,
            meta: input.meta,
            scope,
            created_at: now,
            updated_at: now,
        };
        self.invalidating(
            self.ports
                .resource_groups
                .update_resource_group(&group, &audit)
                .map_err(AppError::from_repo(Entity::ResourceGroup)),
        )
    }

    /// Deletes a resource group no policy names.
    ///
    /// # Errors
    /// `InUse`; `NotFound`; `Forbidden`.
    pub fn delete_resource_group(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        id: ResourceGroupId,
    ) -> AppResult<()> {
        self.authorize(principal, account, WRITE, None)?;
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "resource_group.delete",
            None,
            json!({}),
        );
        self.ports
            .resource_groups
            .delete_resource_group(account, id, &audit)
            .map_err(AppError::from_repo(Entity::ResourceGroup))
    }

    // ------------------------------------------------------------ user groups

    /// Creates a user group with policies (ids generated).
    ///
    /// # Errors
    /// `Invalid` naming an unknown permission group or resource group; `Forbidden` without User
    /// Management write or for a permission group the caller does not hold; `Conflict(Field::Name)`.
    pub fn create_user_group(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        name: String,
        policies: Vec<PolicyInput>,
    ) -> AppResult<UserGroup> {
        self.authorize(principal, account, WRITE, None)?;
        check_group_name(&name)?;
        let policies = self.build_policies(principal, account, policies, &[])?;
        let now = self.ports.clock.now();
        let group = UserGroup {
            id: UserGroupId(self.ports.ids.hex32()),
            account_id: account,
            name,
            policies,
            created_on: now,
            modified_on: now,
        };
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "user_group.create",
            None,
            json!({ "name": group.name, "policies": group.policies.len() }),
        );
        self.ports
            .user_groups
            .create_user_group(&group, &audit)
            .map_err(AppError::from_repo(Entity::UserGroup))
    }

    /// One user group with its policies.
    ///
    /// # Errors
    /// `NotFound(Entity::UserGroup)`; `Forbidden`.
    pub fn get_user_group(
        &self,
        principal: &Principal,
        account: AccountId,
        id: UserGroupId,
    ) -> AppResult<UserGroup> {
        self.authorize(principal, account, READ, None)?;
        self.ports
            .user_groups
            .get_user_group(account, id)
            .map_err(AppError::from_repo(Entity::UserGroup))
    }

    /// A page of user groups.
    ///
    /// # Errors
    /// `Forbidden`.
    pub fn list_user_groups(
        &self,
        principal: &Principal,
        account: AccountId,
        query: &ListQuery,
    ) -> AppResult<Page<UserGroup>> {
        self.authorize(principal, account, READ, None)?;
        Ok(self.ports.user_groups.list_user_groups(account, query)?)
    }

    /// Replaces a user group's name and policies (`PUT`; an absent part stays as it is); takes
    /// effect on the next request. New policies get new ids.
    ///
    /// # Errors
    /// As for creation, plus `NotFound`.
    pub fn replace_user_group(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        id: UserGroupId,
        name: Option<String>,
        policies: Option<Vec<PolicyInput>>,
    ) -> AppResult<UserGroup> {
        self.authorize(principal, account, WRITE, None)?;
        if let Some(n) = &name {
            check_group_name(n)?;
        }
        let current = self
            .ports
            .user_groups
            .get_user_group(account, id)
            .map_err(AppError::from_repo(Entity::UserGroup))?;
        let name = name.unwrap_or(current.name);
        let policies = match policies {
            Some(p) => self.build_policies(principal, account, p, &current.policies)?,
            None => current.policies,
        };
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "user_group.update",
            None,
            json!({ "name": name, "policies": policies.len() }),
        );
        self.invalidating(
            self.ports
                .user_groups
                .replace_user_group(
                    account,
                    id,
                    &name,
                    &policies,
                    self.ports.clock.now(),
                    &audit,
                )
                .map_err(AppError::from_repo(Entity::UserGroup)),
        )
    }

    /// Deletes a user group (its policies stop applying on the next request).
    ///
    /// # Errors
    /// `NotFound`; `Forbidden`.
    pub fn delete_user_group(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        id: UserGroupId,
    ) -> AppResult<()> {
        self.authorize(principal, account, WRITE, None)?;
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "user_group.delete",
            None,
            json!({}),
        );
        self.invalidating(
            self.ports
                .user_groups
                .delete_user_group(account, id, &audit)
                .map_err(AppError::from_repo(Entity::UserGroup)),
        )
    }

    /// The resource groups of `account` among `ids` (to show a user group's policies in full).
    ///
    /// # Errors
    /// `Forbidden` without User Management read.
    pub fn find_resource_groups(
        &self,
        principal: &Principal,
        account: AccountId,
        ids: &[ResourceGroupId],
    ) -> AppResult<Vec<ResourceGroup>> {
        self.authorize(principal, account, READ, None)?;
        Ok(self
            .ports
            .resource_groups
            .find_resource_groups(account, ids)?)
    }

    /// The group's members.
    ///
    /// # Errors
    /// `NotFound(Entity::UserGroup)`; `Forbidden`.
    pub fn list_members(
        &self,
        principal: &Principal,
        account: AccountId,
        group: UserGroupId,
    ) -> AppResult<Vec<Member>> {
        self.authorize(principal, account, READ, None)?;
        self.ports
            .user_groups
            .list_members(account, group)
            .map_err(AppError::from_repo(Entity::UserGroup))
    }

    /// Adds members (or, with `replace`, sets the exact list). Putting someone in a group hands
    /// them its allow policies, so the caller must hold every permission they allow.
    ///
    /// # Errors
    /// `NotFound(Entity::UserGroup)`, `NotFound(Entity::User)`; `Forbidden`.
    pub fn set_members(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        group: UserGroupId,
        members: Vec<(UserId, MemberStatus)>,
        replace: bool,
    ) -> AppResult<Vec<Member>> {
        self.authorize(principal, account, WRITE, None)?;
        let current = self
            .ports
            .user_groups
            .get_user_group(account, group)
            .map_err(AppError::from_repo(Entity::UserGroup))?;
        let allowed = current
            .policies
            .iter()
            .filter(|p| p.access == Effect::Allow)
            .flat_map(|p| p.permission_groups.iter())
            .filter_map(|pg| catalog::by_id(*pg).map(|g| g.permission));
        let d = policy::check_permissions(&principal.subject, account, &[], allowed);
        if !d.allowed {
            return Err(AppError::Forbidden(d.reasons));
        }
        let action = if replace {
            "user_group.members.set"
        } else {
            "user_group.members.add"
        };
        let audit = self.audit_record(
            principal,
            meta,
            account,
            action,
            None,
            json!({ "members": members.iter().map(|(u, _)| u.0).collect::<Vec<_>>() }),
        );
        self.invalidating(
            self.ports
                .user_groups
                .set_members(
                    account,
                    group,
                    &members,
                    replace,
                    self.ports.clock.now(),
                    &audit,
                )
                .map_err(AppError::from_repo(Entity::User)),
        )
    }

    /// Removes a member.
    ///
    /// # Errors
    /// `NotFound(Entity::Member)`; `Forbidden`.
    pub fn remove_member(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        group: UserGroupId,
        user: UserId,
    ) -> AppResult<Member> {
        self.authorize(principal, account, WRITE, None)?;
        self.ports
            .user_groups
            .get_user_group(account, group)
            .map_err(AppError::from_repo(Entity::UserGroup))?;
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "user_group.members.remove",
            None,
            json!({ "user_id": user }),
        );
        self.invalidating(
            self.ports
                .user_groups
                .remove_member(account, group, user, &audit)
                .map_err(AppError::from_repo(Entity::Member)),
        )
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
}
