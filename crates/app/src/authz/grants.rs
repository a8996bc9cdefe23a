//! The grant rule: every change of someone's permissions is a grant, removals included.
//!
//! A change is allowed only when the caller
//! - may **manage** every principal whose permissions change: it holds every permission of each
//!   affected principal's roles (so nobody below the Owner touches an Owner: no role change, no
//!   password reset, no deny policy, no membership, no key change);
//! - holds every permission **being granted**: a role added (or removed: taking a role away is
//!   a grant decision too), an allow policy attached, a deny policy lifted;
//! - for roles, is also covered by Restcomm's Role Access column, which narrows what one may
//!   grant and never widens it (`policy::check_role_grant`).

use tessera_domain::Entity;
use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::permissions::Permission;
use tessera_domain::policy::{self, Decision};
use tessera_domain::roles::{Role, RoleId};

use crate::App;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;

/// The roles in `before` or `after` but not both: what a change adds or takes away.
#[must_use]
pub(crate) fn changed_roles(before: &[RoleId], after: &[RoleId]) -> Vec<RoleId> {
    let mut changed: Vec<RoleId> = before
        .iter()
        .filter(|r| !after.contains(r))
        .chain(after.iter().filter(|r| !before.contains(r)))
        .copied()
        .collect();
    changed.sort_unstable();
    changed.dedup();
    changed
}

impl App {
    /// `decision` as a result: an invisible account is not found, a refusal is `refused`.
    fn grant_result(
        decision: Decision,
        refused: impl FnOnce(Vec<policy::Reason>) -> AppError,
    ) -> AppResult<()> {
        if decision.allowed {
            Ok(())
        } else if decision.is_invisible() {
            Err(AppError::NotFound(Entity::Account))
        } else {
            Err(refused(decision.reasons))
        }
    }

    /// Refuses unless `rule` allows `principal` every role in `roles` in `account`.
    fn authorize_each_role(
        &self,
        principal: &Principal,
        account: AccountId,
        roles: &[RoleId],
        rule: fn(&policy::Subject, AccountId, &[AccountId], &Role) -> Decision,
    ) -> AppResult<()> {
        let ancestors = self.ancestors_for(principal, account)?;
        for id in roles {
            let role = Role::by_id(*id)?;
            Self::grant_result(
                rule(&principal.subject, account, &ancestors, role),
                AppError::RoleNotGrantable,
            )?;
        }
        Ok(())
    }

    /// Refuses unless `principal` may grant (or take away) every role in `roles` in `account`:
    /// Role Access covering the role, and every permission of the role held.
    ///
    /// # Errors
    /// `Invalid(UnknownRoleId)` for a role outside the catalog; `RoleNotGrantable`;
    /// `NotFound(Account)`.
    pub(crate) fn authorize_role_grants(
        &self,
        principal: &Principal,
        account: AccountId,
        roles: &[RoleId],
    ) -> AppResult<()> {
        self.authorize_each_role(principal, account, roles, policy::check_role_grant)
    }

    /// Refuses unless `principal` holds every permission of each role in `roles`: what its own
    /// service keys may carry (a key never exceeds its creator).
    ///
    /// # Errors
    /// `Invalid(UnknownRoleId)`; `RoleNotGrantable`; `NotFound(Account)`.
    pub(crate) fn authorize_roles_held(
        &self,
        principal: &Principal,
        account: AccountId,
        roles: &[RoleId],
    ) -> AppResult<()> {
        self.authorize_each_role(principal, account, roles, policy::check_holds)
    }

    /// Refuses unless `principal` may manage a principal holding `roles` (it holds every
    /// permission of those roles).
    ///
    /// # Errors
    /// `Forbidden`; `NotFound(Account)`.
    pub(crate) fn authorize_manage(
        &self,
        principal: &Principal,
        account: AccountId,
        roles: &[RoleId],
    ) -> AppResult<()> {
        let ancestors = self.ancestors_for(principal, account)?;
        Self::grant_result(
            policy::check_manage(&principal.subject, account, &ancestors, roles),
            AppError::Forbidden,
        )
    }

    /// Refuses unless `principal` may manage every one of `users` (loaded in one go; ids not in
    /// the account are ignored: they have no permissions to change), and may act on each of
    /// them: a deny on a user's object stops its memberships and policies being changed too.
    ///
    /// # Errors
    /// `Forbidden`; `NotFound(Account)`; storage errors.
    pub(crate) fn authorize_manage_users(
        &self,
        principal: &Principal,
        account: AccountId,
        users: &[UserId],
    ) -> AppResult<()> {
        if users.is_empty() {
            return Ok(());
        }
        let write = Permission::write(tessera_domain::permissions::Capability::UserManagement);
        for user in users {
            let object = tessera_domain::policy::ResourceKey::new(
                tessera_domain::policy::ResourceType::User,
                user,
            );
            self.authorize(principal, account, write, Some(&object))?;
        }
        let mut roles: Vec<RoleId> = self
            .ports
            .users
            .get_users(account, users)?
            .into_iter()
            .flat_map(|u| u.roles)
            .collect();
        roles.sort_unstable();
        roles.dedup();
        self.authorize_manage(principal, account, &roles)
    }

    /// Refuses unless `principal` may take over `user`'s credentials (create an access key for
    /// it, set its password): it must manage the user and also hold everything the user's allow
    /// policies give it, since the credential carries all of it.
    ///
    /// # Errors
    /// `Forbidden`; `NotFound(Account)`; storage errors.
    pub(crate) fn authorize_takeover(
        &self,
        principal: &Principal,
        account: AccountId,
        user: &tessera_domain::user::User,
    ) -> AppResult<()> {
        self.authorize_manage(principal, account, &user.roles)?;
        let mut allowed: Vec<Permission> = self
            .ports
            .authz
            .policy_rules_for_user(account, user.id)?
            .into_iter()
            .filter(|r| r.effect == tessera_domain::policy::Effect::Allow)
            .flat_map(|r| r.permissions)
            .collect();
        allowed.sort_unstable();
        allowed.dedup();
        self.authorize_holds(principal, account, allowed)
    }

    /// Refuses unless `principal` holds every one of `permissions` account-wide: what a policy
    /// change hands out.
    ///
    /// # Errors
    /// `Forbidden`; `NotFound(Account)`.
    pub(crate) fn authorize_holds(
        &self,
        principal: &Principal,
        account: AccountId,
        permissions: impl IntoIterator<Item = Permission>,
    ) -> AppResult<()> {
        let ancestors = self.ancestors_for(principal, account)?;
        Self::grant_result(
            policy::check_permissions(&principal.subject, account, &ancestors, permissions),
            AppError::Forbidden,
        )
    }

    /// Refuses unless `principal` may change a principal's roles from `before` to `after`:
    /// it may manage that principal and grant every role added or taken away.
    ///
    /// # Errors
    /// `Forbidden` (cannot manage); `RoleNotGrantable`; `NotFound(Account)`.
    pub(crate) fn authorize_role_change(
        &self,
        principal: &Principal,
        account: AccountId,
        before: &[RoleId],
        after: &[RoleId],
    ) -> AppResult<()> {
        self.authorize_manage(principal, account, before)?;
        self.authorize_role_grants(principal, account, &changed_roles(before, after))
    }
}

#[cfg(test)]
mod tests;
