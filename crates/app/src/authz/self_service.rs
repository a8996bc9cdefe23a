//! The self-service rule: what a user may do to itself without holding the permission that
//! governs the action for others.
//!
//! A user acting through its **own session or access key** may
//! - read itself (its user, its roles, its effective permissions);
//! - change its own description, phone number, email (not into or out of a domain whose SSO
//!   connector is enforced) and password (giving the old one);
//! - create, list, read, change and delete its own access keys;
//! - create its own service keys with roles it holds, and list, read, change, re-role (with
//!   roles it holds) and delete them;
//! - list its own sessions and end them (any one, or all).
//!
//! Nothing else. A principal authenticated with a **service key** never acts as itself: it is
//! bounded by the key's roles everywhere (a key with no roles reaches only the basic methods:
//! the role catalog and reading itself). Self-service is an implicit grant evaluated next to
//! the engine's decision, never instead of it: a deny policy covering the permission refuses
//! self-service too (deny is total).

use tessera_domain::Entity;
use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::permissions::Permission;
use tessera_domain::policy::{Effect, Reason, ResourceKey};

use crate::App;
use crate::error::{AppError, AppResult};
use crate::principal::{Credential, Principal};

/// What a user does to itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OwnAction {
    /// Reads its own user, roles or effective permissions.
    Read,
    /// Changes its own profile fields or password.
    EditProfile,
    /// Manages its own access keys.
    AccessKeys,
    /// Manages its own service keys.
    ServiceKeys,
    /// Lists and ends its own sessions.
    Sessions,
}

/// How a request was allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// The principal holds the permission.
    Granted,
    /// The self-service rule covers it (the principal does not hold the permission).
    Own(OwnAction),
}

/// Whether the refusal came from a deny policy (which self-service never overturns).
pub(crate) fn denied_by_policy(reasons: &[Reason]) -> bool {
    reasons.iter().any(|r| {
        matches!(
            r,
            Reason::Policy {
                effect: Effect::Deny,
                ..
            }
        )
    })
}

impl App {
    /// Whether `principal` acts as user `user` of `account` itself, through its own session or
    /// access key (a service key never does).
    pub(crate) fn acts_as(principal: &Principal, account: AccountId, user: UserId) -> bool {
        principal.account_id == account
            && principal.user_id == Some(user)
            && matches!(
                principal.credential,
                Credential::Session(_) | Credential::AccessKey(_)
            )
    }

    /// Allows when the principal holds `permission` (on `resource`), or when it acts as `user`
    /// itself and `action` is self-service; a deny policy covering the permission refuses both.
    ///
    /// # Errors
    /// `NotFound(Account)` for an account the principal cannot see; `Forbidden` otherwise.
    pub(crate) fn authorize_or_own(
        &self,
        principal: &Principal,
        account: AccountId,
        permission: Permission,
        resource: Option<&ResourceKey>,
        own: Option<(UserId, OwnAction)>,
    ) -> AppResult<Access> {
        let decision = self.decide(principal, account, permission, resource)?;
        if decision.allowed {
            return Ok(Access::Granted);
        }
        let own = own.filter(|(user, _)| {
            !decision.is_invisible()
                && Self::acts_as(principal, account, *user)
                && !denied_by_policy(&decision.reasons)
        });
        if let Some((_, action)) = own {
            return Ok(Access::Own(action));
        }
        self.telemetry.denied(permission.capability);
        if decision.is_invisible() {
            return Err(AppError::NotFound(Entity::Account));
        }
        Err(AppError::Forbidden(decision.reasons))
    }
}

#[cfg(test)]
mod tests;
