//! Enforcement: the one place where use cases ask the policy engine before acting.
//!
//! Only the use cases in this crate decide who may do what; the adapters translate and map
//! errors. Three rules live here:
//! - [`App::authorize`]: the engine's decision for one permission (on one object);
//! - `self_service`: what users may do to themselves without holding a permission;
//! - `grants`: every change of someone's permissions is a grant, removals included.

use tessera_domain::Entity;
use tessera_domain::audit::{AuditRecord, Outcome, RequestMeta};
use tessera_domain::ids::AccountId;
use tessera_domain::permissions::Permission;
use tessera_domain::policy::{self, Decision, Request, ResourceKey, ResourceType};

mod grants;
mod self_service;

pub(crate) use grants::changed_roles;
pub(crate) use self_service::{Access, OwnAction, denied_by_policy};

use crate::App;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;

impl App {
    /// The ancestors of `account`, nearest first (empty for a top-level account); a chain
    /// deeper than 32 levels, or a cycle, is cut there.
    ///
    /// # Errors
    /// `NotFound(Account)` for a missing account; storage errors.
    pub(crate) fn ancestors_of(&self, account: AccountId) -> AppResult<Vec<AccountId>> {
        let mut chain = Vec::new();
        let mut current = self
            .ports
            .accounts
            .get_account(account)
            .map_err(AppError::from_repo(Entity::Account))?;
        while let Some(parent) = current.parent_id {
            if chain.contains(&parent) || chain.len() >= 32 {
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

    /// The ancestors of `account` as a decision for `principal` needs them: none for the
    /// principal's own account.
    pub(crate) fn ancestors_for(
        &self,
        principal: &Principal,
        account: AccountId,
    ) -> AppResult<Vec<AccountId>> {
        if account == principal.account_id {
            return Ok(Vec::new());
        }
        self.ancestors_of(account)
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
    /// `NotFound(Account)` when the account is not visible to the principal, `Forbidden` with
    /// the engine's reasons when it is visible but the permission is not held.
    pub(crate) fn authorize(
        &self,
        principal: &Principal,
        account: AccountId,
        permission: Permission,
        resource: Option<&ResourceKey>,
    ) -> AppResult<()> {
        let decision = self.decide(principal, account, permission, resource)?;
        if !decision.allowed {
            self.telemetry.denied(permission.capability);
        }
        Self::enforce(decision)
    }

    /// Whether `principal` holds `permission` in `account` (on `resource`, if given), for a use
    /// case that picks between two ways of serving a request: not holding it is no refusal, so
    /// it is not counted as a denial (only what the caller is refused is).
    ///
    /// # Errors
    /// Storage errors while reading the account hierarchy.
    pub(crate) fn holds(
        &self,
        principal: &Principal,
        account: AccountId,
        permission: Permission,
        resource: Option<&ResourceKey>,
    ) -> AppResult<bool> {
        Ok(self
            .decide(principal, account, permission, resource)?
            .allowed)
    }

    /// The engine's decision, with reasons (for `authorize` and the explain endpoint).
    ///
    /// # Errors
    /// Storage errors while reading the account hierarchy.
    pub(crate) fn decide(
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
    /// `NotFound(Account)`.
    pub(crate) fn ensure_visible(
        &self,
        principal: &Principal,
        account: AccountId,
    ) -> AppResult<()> {
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

    /// The ids of the objects of `kind` that a deny policy hides from `principal` when
    /// `permission` is what seeing them takes: left out of every list it gets (deny is total).
    pub(crate) fn hidden(
        principal: &Principal,
        kind: ResourceType,
        permission: Permission,
    ) -> Vec<String> {
        principal
            .subject
            .policies
            .denied_objects(kind, permission)
            .map(str::to_owned)
            .collect()
    }

    /// Passes `result` through; on success drops cached principals, since the change may alter
    /// a decision (other instances follow through the authorization versions).
    pub(crate) fn invalidating<T>(&self, result: AppResult<T>) -> AppResult<T> {
        if result.is_ok() {
            self.after_change();
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
mod tests;
