//! Explanations: the engine's decision for any principal of the account, the sources of a
//! user's permissions, and the audit log.

use serde::Serialize;
use tessera_domain::Entity;
use tessera_domain::audit::{AuditEvent, check_filter_time};
use tessera_domain::ids::{AccessKeyId, AccountId, PolicyId, ServiceKeyId, UserGroupId, UserId};
use tessera_domain::permissions::{Capability, Level, Permission};
use tessera_domain::policy::{
    self, Decision, Effect, Request, ResourceKey, ResourceType, ScopeObjects, Subject,
};
use tessera_domain::ports::AuditFilter;
use tessera_domain::roles::Role;

use crate::App;
use crate::authz::OwnAction;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;

/// Whose permissions to explain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalRef {
    /// A user.
    User(UserId),
    /// A service key.
    ServiceKey(ServiceKeyId),
    /// An access key.
    AccessKey(AccessKeyId),
}

/// Where a permission comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Source {
    /// A role of the user.
    Role {
        /// Role id.
        id: i64,
        /// Role name.
        name: &'static str,
    },
    /// A policy of one of the user's groups.
    Policy {
        /// Policy id.
        id: PolicyId,
        /// Its user group.
        user_group: UserGroupId,
    },
}

/// One line of a user's effective permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectivePermission {
    /// Capability.
    pub capability: Capability,
    /// Level.
    pub level: Level,
    /// `*` (the whole account) or an object key.
    pub scope: String,
    /// Allow or deny.
    pub effect: Effect,
    /// Where it comes from.
    pub source: Source,
}

const READ: Permission = Permission::read(Capability::UserManagement);

impl App {
    fn subject_of(&self, account: AccountId, target: &PrincipalRef) -> AppResult<Subject> {
        match target {
            PrincipalRef::User(id) => {
                let user = self
                    .ports
                    .users
                    .get_user(account, *id)
                    .map_err(AppError::from_repo(Entity::User))?;
                self.user_subject(account, &user, None)
            }
            PrincipalRef::ServiceKey(id) => {
                let key = self
                    .ports
                    .service_keys
                    .get_service_key(account, *id)
                    .map_err(AppError::from_repo(Entity::ServiceKey))?;
                self.key_subject(&key)?
                    .ok_or(AppError::NotFound(Entity::ServiceKey))
            }
            PrincipalRef::AccessKey(id) => {
                let found = self
                    .ports
                    .access_keys
                    .find_access_key(id)?
                    .filter(|k| k.key.account_id == account)
                    .ok_or(AppError::NotFound(Entity::AccessKey))?;
                let user = self
                    .ports
                    .users
                    .get_user(account, found.key.user_id)
                    .map_err(AppError::from_repo(Entity::User))?;
                self.user_subject(account, &user, None)
            }
        }
    }

    /// The decision the engine would take for `target` asking `permission` (on `resource`) in
    /// `account`, with the roles and policies that decided.
    ///
    /// # Errors
    /// `Forbidden` without User Management read; `NotFound` for a principal of another account.
    pub fn explain(
        &self,
        principal: &Principal,
        account: AccountId,
        target: &PrincipalRef,
        permission: Permission,
        resource: Option<&ResourceKey>,
    ) -> AppResult<Decision> {
        self.authorize(principal, account, READ, None)?;
        // The principal asked about must be one the caller may see: a deny on it hides it here
        // too.
        let object = match target {
            PrincipalRef::User(id) => ResourceKey::new(ResourceType::User, id),
            PrincipalRef::ServiceKey(id) => ResourceKey::new(ResourceType::ServiceKey, id),
            PrincipalRef::AccessKey(id) => ResourceKey::new(ResourceType::AccessKey, id),
        };
        self.authorize(principal, account, READ, Some(&object))?;
        let subject = self.subject_of(account, target)?;
        if let PrincipalRef::AccessKey(id) = target {
            let owner = self
                .ports
                .access_keys
                .find_access_key(id)?
                .map(|k| ResourceKey::new(ResourceType::User, k.key.user_id));
            self.authorize(principal, account, READ, owner.as_ref())?;
        }
        Ok(policy::decide(
            &subject,
            &Request {
                account,
                permission,
                resource,
                ancestors: &[],
            },
        ))
    }

    /// Every permission `user` holds or is denied, with its scope and source.
    ///
    /// # Errors
    /// `Forbidden` without User Management read (users read their own by self-service);
    /// `NotFound(User)`.
    pub fn effective_permissions(
        &self,
        principal: &Principal,
        account: AccountId,
        user: UserId,
    ) -> AppResult<Vec<EffectivePermission>> {
        self.authorize_or_own(
            principal,
            account,
            READ,
            Some(&ResourceKey::new(ResourceType::User, user)),
            Some((user, OwnAction::Read)),
        )?;
        let target = self
            .ports
            .users
            .get_user(account, user)
            .map_err(AppError::from_repo(Entity::User))?;
        let mut out = Vec::new();
        for role in target.roles.iter().filter_map(|r| Role::by_id(*r).ok()) {
            for p in role.permissions().highest() {
                out.push(EffectivePermission {
                    capability: p.capability,
                    level: p.level,
                    scope: "*".into(),
                    effect: Effect::Allow,
                    source: Source::Role {
                        id: role.id.0,
                        name: role.name,
                    },
                });
            }
        }
        for rule in self.ports.authz.policy_rules_for_user(account, user)? {
            let scopes: Vec<String> = rule
                .scopes
                .iter()
                .filter(|s| s.account == account)
                .flat_map(|s| match &s.objects {
                    ScopeObjects::Everything => vec!["*".to_owned()],
                    ScopeObjects::Only(keys) => keys.iter().map(ToString::to_string).collect(),
                })
                .collect();
            for p in &rule.permissions {
                for scope in &scopes {
                    out.push(EffectivePermission {
                        capability: p.capability,
                        level: p.level,
                        scope: scope.clone(),
                        effect: rule.effect,
                        source: Source::Policy {
                            id: rule.id,
                            user_group: rule.user_group,
                        },
                    });
                }
            }
        }
        Ok(out)
    }

    /// The account's audit events, newest first.
    ///
    /// # Errors
    /// `Forbidden` without Audit API read; `Invalid` for a time outside 1970–9999.
    pub fn list_audit_events(
        &self,
        principal: &Principal,
        account: AccountId,
        filter: &AuditFilter,
    ) -> AppResult<Vec<AuditEvent>> {
        self.authorize(
            principal,
            account,
            Permission::read(Capability::AuditApi),
            None,
        )?;
        if let Some(at) = filter.since {
            check_filter_time("since", at)?;
        }
        if let Some(at) = filter.before {
            check_filter_time("before", at)?;
        }
        Ok(self.ports.audit.list_audit(account, filter)?)
    }
}
