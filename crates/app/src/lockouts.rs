//! Lockouts: a login locked after too many failed sign-ins can be seen and cleared by an
//! administrator who may manage its user (over the API), or by an operator (`tessera unlock`),
//! so that a guesser cannot lock an owner out without recourse. Clearing needs the right to
//! manage the user: otherwise clearing would let a weaker principal keep guessing a stronger
//! one's password.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use tessera_domain::Entity;
use tessera_domain::audit::{Actor, AuditRecord, Outcome, RequestMeta};
use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::permissions::{Capability, Permission};
use tessera_domain::policy::{ResourceKey, ResourceType};
use tessera_domain::user::User;

use crate::App;
use crate::auth::login_key;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;

/// A login's failed sign-ins in the current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    /// Attempts counted (failures, and sign-ins in flight).
    pub failures: u32,
    /// Whether sign-in is refused until `until`.
    pub locked: bool,
    /// When the window (and the lock, if any) ends.
    pub until: Option<DateTime<Utc>>,
}

impl App {
    pub(crate) fn lockout_of(&self, account: AccountId, login: &str) -> AppResult<Lockout> {
        let limits = self.settings.rate_limits;
        let now = self.ports.clock.now();
        let count = self.ports.attempts.attempt_count(
            &login_key(account, login),
            limits.window_secs,
            now,
        )?;
        Ok(match count {
            None => Lockout {
                failures: 0,
                locked: false,
                until: None,
            },
            Some(c) => Lockout {
                failures: c.attempts,
                locked: c.attempts >= limits.per_login,
                until: Some(c.since + TimeDelta::seconds(limits.window_secs)),
            },
        })
    }

    fn load_for_lockout(
        &self,
        principal: &Principal,
        account: AccountId,
        id: UserId,
        permission: Permission,
    ) -> AppResult<User> {
        self.authorize(
            principal,
            account,
            permission,
            Some(&ResourceKey::new(ResourceType::User, id)),
        )?;
        self.ports
            .users
            .get_user(account, id)
            .map_err(AppError::from_repo(Entity::User))
    }

    /// The user's login's failed sign-ins and lock.
    ///
    /// # Errors
    /// `Forbidden` without User Management read; `NotFound(User)`.
    pub fn lockout(
        &self,
        principal: &Principal,
        account: AccountId,
        user: UserId,
    ) -> AppResult<Lockout> {
        let read = Permission::read(Capability::UserManagement);
        let target = self.load_for_lockout(principal, account, user, read)?;
        self.lockout_of(account, target.login.as_str())
    }

    /// Clears the user's login's failed sign-ins (and its lock), with an audit event.
    ///
    /// # Errors
    /// `Forbidden` without User Management write or the right to manage the user;
    /// `NotFound(User)`.
    pub fn clear_lockout(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        user: UserId,
    ) -> AppResult<Lockout> {
        let write = Permission::write(Capability::UserManagement);
        let target = self.load_for_lockout(principal, account, user, write)?;
        self.authorize_manage(principal, account, &target.roles)?;
        let before = self.lockout_of(account, target.login.as_str())?;
        self.ports
            .attempts
            .clear_attempts(&login_key(account, target.login.as_str()))?;
        let record = self.audit_record(
            principal,
            meta,
            account,
            "user.lockout.clear",
            Some(format!("user:{user}")),
            json!({ "failures": before.failures, "was_locked": before.locked }),
        );
        self.ports.audit.append_audit(&record)?;
        self.lockout_of(account, target.login.as_str())
    }

    /// Clears a login's lock on the operator's behalf (`tessera unlock`); `true` when there was
    /// something to clear. Audited with the system as the actor.
    ///
    /// # Errors
    /// Storage errors.
    pub fn unlock_login(&self, account: AccountId, login: &str) -> AppResult<bool> {
        let cleared = self
            .ports
            .attempts
            .clear_attempts(&login_key(account, login))?;
        let record = AuditRecord {
            account_id: self.ports.accounts.get_account(account).ok().map(|a| a.id),
            actor: Actor::system(),
            action: "login.unlock".into(),
            target: Some(format!("login:{}", login.trim().to_lowercase())),
            outcome: Outcome::Success,
            client_ip: None,
            request_id: None,
            at: self.ports.clock.now(),
            details: json!({ "cleared": cleared, "by": "tessera unlock" }),
        };
        self.ports.audit.append_audit(&record)?;
        Ok(cleared)
    }
}
