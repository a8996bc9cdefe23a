//! The catalogs every principal may read in an account it can see: roles, role groups and
//! permission groups (the basic methods: no permission needed).

use tessera_domain::Entity;
use tessera_domain::ids::{AccountId, PermissionGroupId};
use tessera_domain::permissions::groups::{self, PermissionGroup};
use tessera_domain::roles::{ROLE_GROUPS, ROLES, Role, RoleGroup};

use crate::App;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;

impl App {
    /// The role catalog.
    ///
    /// # Errors
    /// `NotFound(Account)` for an account the principal cannot see.
    pub fn roles(&self, principal: &Principal, account: AccountId) -> AppResult<&'static [Role]> {
        self.ensure_visible(principal, account)?;
        Ok(ROLES)
    }

    /// The role groups.
    ///
    /// # Errors
    /// `NotFound(Account)` for an account the principal cannot see.
    pub fn role_groups(
        &self,
        principal: &Principal,
        account: AccountId,
    ) -> AppResult<&'static [RoleGroup]> {
        self.ensure_visible(principal, account)?;
        Ok(ROLE_GROUPS)
    }

    /// The permission groups: one per capability and level.
    ///
    /// # Errors
    /// `NotFound(Account)` for an account the principal cannot see.
    pub fn permission_groups(
        &self,
        principal: &Principal,
        account: AccountId,
    ) -> AppResult<&'static [PermissionGroup]> {
        self.ensure_visible(principal, account)?;
        Ok(groups::catalog())
    }

    /// One permission group.
    ///
    /// # Errors
    /// `NotFound(Account)`; `NotFound(PermissionGroup)` for an unknown id.
    pub fn permission_group(
        &self,
        principal: &Principal,
        account: AccountId,
        id: PermissionGroupId,
    ) -> AppResult<&'static PermissionGroup> {
        self.ensure_visible(principal, account)?;
        groups::by_id(id).ok_or(AppError::NotFound(Entity::PermissionGroup))
    }
}
