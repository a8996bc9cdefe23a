//! Resource groups: the scopes that policies name.

use serde_json::json;
use tessera_domain::Entity;
use tessera_domain::audit::RequestMeta;
use tessera_domain::groups::{Policy, ResourceGroup, check_group_name};
use tessera_domain::ids::{AccountId, ResourceGroupId, UserId};
use tessera_domain::policy::{ResourceKey, ResourceType};
use tessera_domain::ports::{ListQuery, Page};

use super::{READ, ResourceGroupInput, WRITE, check_group_objects, handed_out, scope_of};
use crate::App;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;

fn rg_key(id: ResourceGroupId) -> ResourceKey {
    ResourceKey::new(ResourceType::ResourceGroup, id)
}

impl App {
    /// Refuses a new scope of resource group `id` that would make a user group whose policies
    /// name it name too many objects in all.
    fn check_objects_with_scope(
        &self,
        account: AccountId,
        id: ResourceGroupId,
        scope: &tessera_domain::policy::Scope,
    ) -> AppResult<()> {
        for group in self.ports.user_groups.user_groups_using(account, id)? {
            let mut named: Vec<ResourceGroupId> = group
                .policies
                .iter()
                .flat_map(|p| p.resource_groups.iter().copied())
                .collect();
            named.sort();
            named.dedup();
            let mut groups = self
                .ports
                .resource_groups
                .find_resource_groups(account, &named)?;
            for g in &mut groups {
                if g.id == id {
                    g.scope = scope.clone();
                }
            }
            check_group_objects(
                group.policies.iter().map(|p| p.resource_groups.as_slice()),
                &groups,
            )?;
        }
        Ok(())
    }

    /// Resource group `id` as `input` describes it, stamped now.
    fn resource_group(
        &self,
        id: ResourceGroupId,
        account: AccountId,
        input: ResourceGroupInput,
        scope: tessera_domain::policy::Scope,
    ) -> ResourceGroup {
        let now = self.ports.clock.now();
        ResourceGroup {
            id,
            account_id: account,
            name: input.name,
            meta: input.meta,
            scope,
            created_at: now,
            updated_at: now,
        }
    }

    /// A change of resource group `id`'s scope moves every policy that names it: the caller
    /// must hold what those policies allow and what they deny (narrowing a deny lifts it), and
    /// manage every member of their user groups.
    fn authorize_scope_change(
        &self,
        principal: &Principal,
        account: AccountId,
        id: ResourceGroupId,
    ) -> AppResult<()> {
        let groups = self.ports.user_groups.user_groups_using(account, id)?;
        if groups.is_empty() {
            return Ok(());
        }
        let naming: Vec<Policy> = groups
            .iter()
            .flat_map(|g| g.policies.iter())
            .filter(|p| p.resource_groups.contains(&id))
            .cloned()
            .collect();
        let mut moved = handed_out(&[], &naming);
        moved.extend(handed_out(&naming, &[]));
        self.authorize_holds(principal, account, moved)?;
        let mut members: Vec<UserId> = Vec::new();
        for g in &groups {
            members.extend(
                self.ports
                    .user_groups
                    .list_members(account, g.id)?
                    .into_iter()
                    .map(|m| m.user_id),
            );
        }
        members.sort_unstable();
        members.dedup();
        self.authorize_manage_users(principal, account, &members)
    }

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
        let id = ResourceGroupId(self.ports.ids.hex32());
        let group = self.resource_group(id, account, input, scope);
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
        self.authorize(principal, account, READ, Some(&rg_key(id)))?;
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
        let mut query = query.clone();
        query.hidden = Self::hidden(principal, ResourceType::ResourceGroup, READ);
        Ok(self
            .ports
            .resource_groups
            .list_resource_groups(account, &query)?)
    }

    /// Replaces a resource group's name, meta and scope. The scope decides where the policies
    /// naming the group apply, so when any does, the caller must hold what they allow and what
    /// they deny, and be able to manage every member of their user groups.
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
        self.authorize(principal, account, WRITE, Some(&rg_key(id)))?;
        check_group_name(&input.name)?;
        let scope = scope_of(account, &input.scope)?;
        let current = self
            .ports
            .resource_groups
            .get_resource_group(account, id)
            .map_err(AppError::from_repo(Entity::ResourceGroup))?;
        if current.scope != scope {
            self.authorize_scope_change(principal, account, id)?;
            self.check_objects_with_scope(account, id, &scope)?;
        }
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "resource_group.update",
            None,
            json!({ "name": input.name }),
        );
        let group = self.resource_group(id, account, input, scope);
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
        self.authorize(principal, account, WRITE, Some(&rg_key(id)))?;
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
}
