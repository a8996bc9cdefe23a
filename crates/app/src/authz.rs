//! Enforcement: the one place where use cases ask the policy engine before acting.

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
            .map_err(AppError::from_repo("account"))?;
        while let Some(parent) = current.parent_id {
            if chain.contains(&parent) || chain.len() > 16 {
                break;
            }
            chain.push(parent);
            current = self
                .ports
                .accounts
                .get_account(parent)
                .map_err(AppError::from_repo("account"))?;
        }
        Ok(chain)
    }

    /// Turns a refusal into the error the caller sees: an invisible account is not found.
    fn enforce(decision: Decision) -> AppResult<()> {
        if decision.allowed {
            Ok(())
        } else if decision.is_invisible() {
            Err(AppError::NotFound("account"))
        } else {
            Err(AppError::Forbidden(decision.reasons))
        }
    }

    /// Asks the engine whether `principal` holds `permission` in `account` (on `resource`, if
    /// given).
    ///
    /// # Errors
    /// `NotFound("account")` when the account is not visible to the principal, `Forbidden` with
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

    /// Refuses unless `principal` may grant every role in `roles` in `account` (no escalation).
    ///
    /// # Errors
    /// `Invalid(UnknownRoleId)` for a role outside the catalog, `Forbidden` otherwise.
    pub fn authorize_role_grants(
        &self,
        principal: &Principal,
        account: AccountId,
        roles: &[RoleId],
    ) -> AppResult<()> {
        let ancestors = self.ancestors_for(principal, account)?;
        for id in roles {
            let role = Role::by_id(*id)?;
            Self::enforce(policy::check_role_grant(
                &principal.subject,
                account,
                &ancestors,
                role,
            ))?;
        }
        Ok(())
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
