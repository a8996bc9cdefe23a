//! User groups and their allow/deny policies.

use serde_json::json;
use tessera_domain::Entity;
use tessera_domain::audit::RequestMeta;
use tessera_domain::groups::{UserGroup, check_group_name};
use tessera_domain::ids::{AccountId, UserGroupId};
use tessera_domain::policy::{ResourceKey, ResourceType};
use tessera_domain::ports::{ListQuery, Page};

use super::{PolicyInput, READ, WRITE, handed_out, reach_changes};
use crate::App;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;

pub(super) fn ug_key(id: UserGroupId) -> ResourceKey {
    ResourceKey::new(ResourceType::UserGroup, id)
}

impl App {
    /// Refuses unless `principal` may manage every member of user group `id`.
    pub(super) fn authorize_manage_members(
        &self,
        principal: &Principal,
        account: AccountId,
        id: UserGroupId,
    ) -> AppResult<()> {
        let members: Vec<_> = self
            .ports
            .user_groups
            .list_members(account, id)
            .map_err(AppError::from_repo(Entity::UserGroup))?
            .into_iter()
            .map(|m| m.user_id)
            .collect();
        self.authorize_manage_users(principal, account, &members)
    }

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
        let policies = self.build_policies(account, policies, &[])?;
        self.authorize_holds(principal, account, handed_out(&[], &policies))?;
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
        self.authorize(principal, account, READ, Some(&ug_key(id)))?;
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
        let mut query = query.clone();
        query.hidden = Self::hidden(principal, ResourceType::UserGroup, READ);
        Ok(self.ports.user_groups.list_user_groups(account, &query)?)
    }

    /// Replaces a user group's name and policies (`PUT`; an absent part stays as it is); takes
    /// effect on the next request. New policies get new ids. The caller must hold every allow
    /// added and every deny lifted and, when what the members may do changes, be able to
    /// manage every member.
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
        self.authorize(principal, account, WRITE, Some(&ug_key(id)))?;
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
            Some(p) => {
                let new = self.build_policies(account, p, &current.policies)?;
                self.authorize_holds(principal, account, handed_out(&current.policies, &new))?;
                if reach_changes(&current.policies, &new) {
                    self.authorize_manage_members(principal, account, id)?;
                }
                new
            }
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

    /// Deletes a user group (its policies stop applying on the next request): the caller must
    /// hold what its denies take away and be able to manage every member.
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
        self.authorize(principal, account, WRITE, Some(&ug_key(id)))?;
        let current = self
            .ports
            .user_groups
            .get_user_group(account, id)
            .map_err(AppError::from_repo(Entity::UserGroup))?;
        self.authorize_holds(principal, account, handed_out(&current.policies, &[]))?;
        self.authorize_manage_members(principal, account, id)?;
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
}
