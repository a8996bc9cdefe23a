//! Enforcement: the one place where use cases ask the policy engine before acting.

use tessera_domain::Entity;
use tessera_domain::audit::{AuditRecord, Outcome, RequestMeta};
use tessera_domain::ids::AccountId;
use tessera_domain::permissions::Permission;
use tessera_domain::policy::{self, Decision, Request, ResourceKey};
use tessera_domain::roles::{Role, RoleId};

use crate::App;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;

impl App {
    /// The ancestors of `account`, nearest first; empty for the principal's own account.
    fn ancestors_for(
        &self,
        principal: &Principal,
        account: AccountId,
    ) -> AppResult<Vec<AccountId>> {
        if account == principal.account_id {
            return Ok(Vec::new());
        }
        let mut chain = Vec::new();
        let mut current = self
            .ports
            .accounts
            .get_account(account)
            .map_err(AppError::from_repo(Entity::Account))?;
        while let Some(parent) = current.parent_id {
            if chain.contains(&parent) || chain.len() > 16 {
                break;
            }
            chain.push(parent);
            current = self
                .ports
                .accounts
                .get_account(parent)
                .map_err(AppError::from_repo(Entity::Account))?;
        }
        Ok(chain)
    }

    /// Turns a refusal into the error the caller sees: an invisible account is not found.
    fn enforce(decision: Decision) -> AppResult<()> {
        if decision.allowed {
            Ok(())
        } else if decision.is_invisible() {
            Err(AppError::NotFound(Entity::Account))
        } else {
            Err(AppError::Forbidden(decision.reasons))
        }
    }

    /// Asks the engine whether `principal` holds `permission` in `account` (on `resource`, if
    /// given).
    ///
    /// # Errors
    /// `NotFound(Entity::Account)` when the account is not visible to the principal, `Forbidden` with
    /// the engine's reasons when it is visible but the permission is not held.
    pub fn authorize(
        &self,
        principal: &Principal,
        account: AccountId,
        permission: Permission,
        resource: Option<&ResourceKey>,
    ) -> AppResult<()> {
        Self::enforce(self.decide(principal, account, permission, resource)?)
    }

    /// The engine's decision, with reasons (for `authorize` and the explain endpoint).
    ///
    /// # Errors
    /// Storage errors while reading the account hierarchy.
    pub fn decide(
        &self,
        principal: &Principal,
        account: AccountId,
        permission: Permission,
        resource: Option<&ResourceKey>,
    ) -> AppResult<Decision> {
        let ancestors = match self.ancestors_for(principal, account) {
            Ok(a) => a,
            Err(AppError::NotFound(_)) => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(policy::decide(
            &principal.subject,
            &Request {
                account,
                permission,
                resource,
                ancestors: &ancestors,
            },
        ))
    }

    /// Refuses unless `account` is visible to `principal`: its own, or a child reached through
    /// Manage Enterprise Accounts. For catalog reads that need no other permission.
    ///
    /// # Errors
    /// `NotFound(Entity::Account)`.
    pub fn ensure_visible(&self, principal: &Principal, account: AccountId) -> AppResult<()> {
        if account == principal.account_id {
            return Ok(());
        }
        let enterprise =
            Permission::read(tessera_domain::permissions::Capability::EnterpriseAccounts);
        match self.authorize(principal, account, enterprise, None) {
            Ok(()) => Ok(()),
            Err(AppError::Forbidden(_)) => Err(AppError::NotFound(Entity::Account)),
            Err(e) => Err(e),
        }
    }

    /// Refuses unless `principal` may grant every role in `roles` in `account` (no escalation).
    ///
    /// # Errors
    /// `Invalid(UnknownRoleId)` for a role outside the catalog, `RoleNotGrantable` otherwise.
    pub fn authorize_role_grants(
        &self,
        principal: &Principal,
        account: AccountId,
        roles: &[RoleId],
    ) -> AppResult<()> {
        let ancestors = self.ancestors_for(principal, account)?;
        for id in roles {
            let role = Role::by_id(*id)?;
            let d = policy::check_role_grant(&principal.subject, account, &ancestors, role);
            if d.is_invisible() {
                return Err(AppError::NotFound(Entity::Account));
            }
            if !d.allowed {
                return Err(AppError::RoleNotGrantable(d.reasons));
            }
        }
        Ok(())
    }

    /// Refuses unless `principal` could grant every role of a user it wants to manage: managing
    /// a user whose roles one could not grant would be an escalation.
    ///
    /// # Errors
    /// `Forbidden`; `NotFound(Entity::Account)`.
    pub(crate) fn authorize_manage_roles(
        &self,
        principal: &Principal,
        account: AccountId,
        roles: &[RoleId],
    ) -> AppResult<()> {
        match self.authorize_role_grants(principal, account, roles) {
            Err(AppError::RoleNotGrantable(reasons)) => Err(AppError::Forbidden(reasons)),
            other => other,
        }
    }

    /// Passes `result` through; on success drops cached principals, since the change may alter
    /// a decision (other instances follow through the authorization epoch).
    pub(crate) fn invalidating<T>(&self, result: AppResult<T>) -> AppResult<T> {
        if result.is_ok() {
            self.cache.invalidate();
        }
        result
    }

    /// An audit record for an action of `principal`.
    pub(crate) fn audit_record(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        action: &str,
        target: Option<String>,
        details: serde_json::Value,
    ) -> AuditRecord {
        AuditRecord {
            account_id: Some(account),
            actor: principal.actor(),
            action: action.to_owned(),
            target,
            outcome: Outcome::Success,
            client_ip: meta.client_ip.clone(),
            request_id: meta.request_id.clone(),
            at: self.ports.clock.now(),
            details,
        }
    }
}

#[cfg(test)]
mod tests {
    use tessera_domain::account::Account;
    use tessera_domain::permissions::Capability;
    use tessera_domain::policy::Reason;
    use tessera_domain::ports::RepoError;
    use tessera_domain::roles::ids;

    use super::*;
    use crate::testing::{ACME, Mocks, now, principal};

    const CHILD: AccountId = AccountId(10);
    const UM_WRITE: Permission = Permission::write(Capability::UserManagement);

    fn account(id: AccountId, parent: Option<AccountId>) -> Account {
        Account {
            id,
            name: format!("a{id}"),
            email: "a@example.com".into(),
            parent_id: parent,
            active: true,
            created_at: now(),
        }
    }

    fn hierarchy(m: &mut Mocks) {
        m.accounts.expect_get_account().returning(|id| match id.0 {
            1 => Ok(account(ACME, None)),
            10 => Ok(account(CHILD, Some(ACME))),
            11 => Ok(account(AccountId(11), None)),
            _ => Err(RepoError::NotFound),
        });
    }

    #[test]
    fn own_account_grants_and_refusals_name_their_reason() {
        let app = Mocks::new().app();
        assert!(
            app.authorize(&principal(1, &[ids::OWNER]), ACME, UM_WRITE, None)
                .is_ok()
        );
        let err = app
            .authorize(&principal(2, &[ids::DEVELOPER]), ACME, UM_WRITE, None)
            .unwrap_err();
        assert_eq!(
            err,
            AppError::Forbidden(vec![Reason::NotGranted {
                permission: UM_WRITE
            }])
        );
    }

    #[test]
    fn a_parent_owner_acts_in_a_child_account_and_others_see_nothing() {
        let mut m = Mocks::new();
        hierarchy(&mut m);
        let app = m.app();
        assert!(
            app.authorize(&principal(1, &[ids::OWNER]), CHILD, UM_WRITE, None)
                .is_ok()
        );
        assert_eq!(
            app.authorize(&principal(3, &[ids::ADMIN]), CHILD, UM_WRITE, None),
            Err(AppError::NotFound(Entity::Account)),
            "no Manage Enterprise Accounts: the child is invisible"
        );
        assert_eq!(
            app.authorize(&principal(1, &[ids::OWNER]), AccountId(11), UM_WRITE, None),
            Err(AppError::NotFound(Entity::Account)),
            "an unrelated account is invisible"
        );
        assert_eq!(
            app.authorize(&principal(1, &[ids::OWNER]), AccountId(99), UM_WRITE, None),
            Err(AppError::NotFound(Entity::Account)),
            "a missing account looks the same"
        );
    }

    #[test]
    fn storage_errors_while_reading_the_hierarchy_are_not_hidden() {
        let mut m = Mocks::new();
        m.accounts
            .expect_get_account()
            .returning(|_| Err(RepoError::Unavailable("down".into())));
        assert_eq!(
            m.app()
                .authorize(&principal(1, &[ids::OWNER]), CHILD, UM_WRITE, None),
            Err(AppError::Unavailable("down".into()))
        );
    }

    #[test]
    fn granting_a_role_needs_role_access_covering_it() {
        let app = Mocks::new().app();
        let admin = principal(3, &[ids::ADMINISTRATOR]);
        assert!(
            app.authorize_role_grants(&admin, ACME, &[ids::TURNKEY_DEVELOPER])
                .is_ok()
        );
        assert_eq!(
            app.authorize_role_grants(&admin, ACME, &[ids::SUPPORT]),
            Err(AppError::RoleNotGrantable(vec![
                Reason::RoleAccessMissing {
                    role_id: ids::SUPPORT
                }
            ]))
        );
        assert!(matches!(
            app.authorize_role_grants(&admin, ACME, &[tessera_domain::roles::RoleId(77)]),
            Err(AppError::Invalid(_))
        ));
    }
}
