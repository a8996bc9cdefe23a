use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::resource::{ResourceKey, ResourceType, Scope, ScopeObjects};
use crate::ids::{AccountId, PolicyId, UserGroupId};
use crate::permissions::{Capability, Level, PermSet, Permission};
use crate::roles::{Role, RoleId};

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// Grants.
    Allow,
    /// Takes away (wins over any allow).
    Deny,
}

impl Effect {
    /// `allow` or `deny`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Deny => "deny",
        }
    }
}

/// A policy as the engine needs it: its permission groups resolved to permissions and its
/// resource groups resolved to scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRule {
    /// The policy.
    pub id: PolicyId,
    /// The user group holding it.
    pub user_group: UserGroupId,
    /// Allow or deny.
    pub effect: Effect,
    /// One permission per permission group.
    pub permissions: Vec<Permission>,
    /// One scope per resource group.
    pub scopes: Vec<Scope>,
}

const NONE: u32 = u32::MAX;
const BITS: usize = 128;

/// Bits a policy covers: allow brings `read` with `write`; deny of `read` takes `write` too.
fn mask(effect: Effect, permissions: &[Permission]) -> u128 {
    permissions.iter().fold(0, |m, p| {
        m | match (effect, p.level) {
            (Effect::Allow, _) => PermSet::of(*p).bits(),
            (Effect::Deny, Level::Write) => PermSet::bit(*p),
            (Effect::Deny, Level::Read) => {
                PermSet::bit(*p) | PermSet::bit(Permission::write(p.capability))
            }
        }
    })
}

fn bit_index(p: Permission) -> usize {
    PermSet::bit(p).trailing_zeros() as usize
}

/// The grants of one effect over the whole account: the union mask and, per bit, the first
/// policy that set it (for the explanation).
#[derive(Clone)]
struct WideGrants {
    mask: u128,
    source: [u32; BITS],
}

impl Default for WideGrants {
    fn default() -> Self {
        Self {
            mask: 0,
            source: [NONE; BITS],
        }
    }
}

impl WideGrants {
    fn add(&mut self, rule: u32, mask: u128) {
        let mut fresh = mask & !self.mask;
        while fresh != 0 {
            let bit = fresh.trailing_zeros() as usize;
            self.source[bit] = rule;
            fresh &= fresh - 1;
        }
        self.mask |= mask;
    }

    fn source_of(&self, p: Permission) -> Option<u32> {
        let s = self.source[bit_index(p)];
        (s != NONE).then_some(s)
    }
}

/// A subject's policies, compiled for constant-time decisions: account-wide grants as bit masks,
/// object grants in a hash map keyed by object. A decision costs the same with 10 policies or
/// 100,000.
#[derive(Clone, Default)]
pub struct PolicyIndex {
    rules: Vec<(PolicyId, UserGroupId)>,
    allow: WideGrants,
    deny: WideGrants,
    objects: HashMap<ResourceKey, Vec<(u32, u128, Effect)>>,
}

impl fmt::Debug for PolicyIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyIndex")
            .field("rules", &self.rules.len())
            .field("objects", &self.objects.len())
            .finish_non_exhaustive()
    }
}

impl PolicyIndex {
    /// Compiles the rules that apply in `account` (scopes of other accounts are ignored).
    #[must_use]
    pub fn compile(account: AccountId, rules: &[PolicyRule]) -> Self {
        let mut index = Self::default();
        for rule in rules {
            let Ok(n) = u32::try_from(index.rules.len()) else {
                break;
            };
            index.rules.push((rule.id, rule.user_group));
            let m = mask(rule.effect, &rule.permissions);
            for scope in rule.scopes.iter().filter(|s| s.account == account) {
                match &scope.objects {
                    ScopeObjects::Everything => match rule.effect {
                        Effect::Allow => index.allow.add(n, m),
                        Effect::Deny => index.deny.add(n, m),
                    },
                    ScopeObjects::Only(keys) => {
                        for key in keys {
                            index
                                .objects
                                .entry(key.clone())
                                .or_default()
                                .push((n, m, rule.effect));
                        }
                    }
                }
            }
        }
        index
    }

    /// How many rules were compiled.
    #[must_use]
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether no rule was compiled.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    fn reason(&self, rule: u32, effect: Effect, permission: Permission) -> Reason {
        let (policy, user_group) = self.rules[rule as usize];
        Reason::Policy {
            policy,
            user_group,
            effect,
            permission,
        }
    }

    /// The first policy with `effect` covering `p` on `resource` (or account-wide).
    fn find(
        &self,
        effect: Effect,
        p: Permission,
        resource: Option<&ResourceKey>,
    ) -> Option<Reason> {
        let wide = match effect {
            Effect::Allow => &self.allow,
            Effect::Deny => &self.deny,
        };
        if let Some(rule) = wide.source_of(p) {
            return Some(self.reason(rule, effect, p));
        }
        let bit = PermSet::bit(p);
        resource
            .and_then(|r| self.objects.get(r))
            .and_then(|grants| {
                grants
                    .iter()
                    .find(|(_, m, e)| *e == effect && m & bit != 0)
                    .map(|(rule, _, _)| self.reason(*rule, effect, p))
            })
    }

    /// A deny policy that takes `permission` away on some object, if any: the subject then does
    /// not hold the permission everywhere in the account.
    #[must_use]
    pub fn denied_on_some_object(&self, permission: Permission) -> Option<Reason> {
        let bit = PermSet::bit(permission);
        self.objects.values().find_map(|grants| {
            grants
                .iter()
                .find(|(_, m, e)| *e == Effect::Deny && m & bit != 0)
                .map(|(rule, _, _)| self.reason(*rule, Effect::Deny, permission))
        })
    }

    /// Everything allowed account-wide (for the effective-permissions listing).
    #[must_use]
    pub fn account_wide_allow(&self) -> u128 {
        self.allow.mask
    }

    /// Everything denied account-wide.
    #[must_use]
    pub fn account_wide_deny(&self) -> u128 {
        self.deny.mask
    }

    /// The ids of the objects of `kind` on which a deny policy takes `permission` away: the
    /// objects hidden from the subject when it lists objects of that kind.
    pub fn denied_objects(
        &self,
        kind: ResourceType,
        permission: Permission,
    ) -> impl Iterator<Item = &str> {
        let bit = PermSet::bit(permission);
        self.objects.iter().filter_map(move |(key, grants)| {
            (key.resource_type == kind
                && grants
                    .iter()
                    .any(|(_, m, e)| *e == Effect::Deny && m & bit != 0))
            .then_some(key.id.as_str())
        })
    }

    /// Each object named by a policy, with the allow and deny masks it gets.
    pub fn object_grants(&self) -> impl Iterator<Item = (&ResourceKey, u128, u128)> {
        self.objects.iter().map(|(k, grants)| {
            let (allow, deny) = grants.iter().fold((0, 0), |(a, d), (_, m, e)| match e {
                Effect::Allow => (a | m, d),
                Effect::Deny => (a, d | m),
            });
            (k, allow, deny)
        })
    }
}

/// Who is asking: its account, its roles, its user groups' policies and, for a service key,
/// the key's roles.
#[derive(Debug, Clone)]
pub struct Subject {
    /// The principal's account.
    pub account: AccountId,
    /// Roles of the user (or, for a key owned by the account, `Owner`).
    pub roles: Vec<RoleId>,
    /// The user's policies, compiled.
    pub policies: PolicyIndex,
    /// For a service key: the key's own roles (the result never exceeds them).
    pub key_roles: Option<Vec<RoleId>>,
    /// For an OAuth access token: the permissions its scopes name (the result never exceeds
    /// them; `None`: no ceiling).
    pub scope: Option<PermSet>,
}

/// What is asked.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The account the request acts in.
    pub account: AccountId,
    /// The permission needed.
    pub permission: Permission,
    /// The object acted on, if one.
    pub resource: Option<&'a ResourceKey>,
    /// Ancestors of `account`, nearest first (empty for a top-level account).
    pub ancestors: &'a [AccountId],
}

/// Why a decision came out as it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Reason {
    /// A role grants the permission.
    Role {
        /// The role.
        role_id: RoleId,
        /// Its name.
        name: &'static str,
        /// What it grants.
        permission: Permission,
    },
    /// A policy allows or denies.
    Policy {
        /// The policy.
        policy: PolicyId,
        /// Its user group.
        user_group: UserGroupId,
        /// Allow or deny.
        effect: Effect,
        /// The permission concerned.
        permission: Permission,
    },
    /// No role and no policy grants the permission.
    NotGranted {
        /// The permission concerned.
        permission: Permission,
    },
    /// A service key's roles do not grant the permission.
    KeyRolesMissing {
        /// The permission concerned.
        permission: Permission,
    },
    /// The request acts in an account the principal cannot see.
    OtherAccount {
        /// That account.
        account: AccountId,
    },
    /// The principal's roles may not grant this role (Restcomm's Role Access column).
    RoleAccessMissing {
        /// The role asked for.
        role_id: RoleId,
    },
    /// The principal acts in a child account through Manage Enterprise Accounts.
    EnterpriseAccess {
        /// The child account.
        account: AccountId,
    },
    /// An OAuth access token's scopes do not include the permission.
    OutsideScope {
        /// The permission concerned.
        permission: Permission,
    },
}

impl Reason {
    /// Whether the reason speaks for allowing.
    #[must_use]
    pub fn allows(&self) -> bool {
        matches!(
            self,
            Self::Role { .. }
                | Self::EnterpriseAccess { .. }
                | Self::Policy {
                    effect: Effect::Allow,
                    ..
                }
        )
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Role {
                name, permission, ..
            } => write!(f, "role {name} grants {permission}"),
            Self::Policy {
                policy,
                user_group,
                effect,
                permission,
            } => {
                let verb = match effect {
                    Effect::Allow => "allows",
                    Effect::Deny => "denies",
                };
                write!(
                    f,
                    "policy {policy} of user group {user_group} {verb} {permission}"
                )
            }
            Self::NotGranted { permission } => write!(f, "no role or policy grants {permission}"),
            Self::KeyRolesMissing { permission } => {
                write!(f, "the service key's roles do not grant {permission}")
            }
            Self::OtherAccount { account } => write!(f, "account {account} is not visible"),
            Self::RoleAccessMissing { role_id } => {
                write!(f, "Role Access does not cover role {role_id}")
            }
            Self::EnterpriseAccess { account } => {
                write!(
                    f,
                    "Manage Enterprise Accounts reaches child account {account}"
                )
            }
            Self::OutsideScope { permission } => {
                write!(f, "the token's scopes do not include {permission}")
            }
        }
    }
}

/// A decision and the reasons behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// The roles, policies and rules that decided.
    pub reasons: Vec<Reason>,
}

impl Decision {
    fn deny(reason: Reason) -> Self {
        Self {
            allowed: false,
            reasons: vec![reason],
        }
    }

    /// Whether the refusal is because the account is not visible (answered as "not found").
    #[must_use]
    pub fn is_invisible(&self) -> bool {
        !self.allowed && matches!(self.reasons.first(), Some(Reason::OtherAccount { .. }))
    }
}

fn granting_role(roles: &[RoleId], p: Permission) -> Option<Reason> {
    roles.iter().find_map(|id| {
        let role = Role::by_id(*id).ok()?;
        role.permissions().contains(p).then_some(Reason::Role {
            role_id: role.id,
            name: role.name,
            permission: p,
        })
    })
}

fn key_allows(subject: &Subject, p: Permission) -> Option<Reason> {
    match &subject.key_roles {
        Some(key_roles) => granting_role(key_roles, p)
            .is_none()
            .then_some(Reason::KeyRolesMissing { permission: p }),
        None => None,
    }
}

/// Decides `request` for `subject`: what its roles and policies allow, within its key's roles
/// and its token's scopes.
#[must_use]
pub fn decide(subject: &Subject, request: &Request<'_>) -> Decision {
    let decision = decide_unscoped(subject, request);
    match subject.scope {
        // Only an allowed request is narrowed: a refusal (another account's invisibility
        // included) keeps its own reason.
        Some(scope) if decision.allowed && !scope.contains(request.permission) => {
            Decision::deny(Reason::OutsideScope {
                permission: request.permission,
            })
        }
        _ => decision,
    }
}

fn decide_unscoped(subject: &Subject, request: &Request<'_>) -> Decision {
    let p = request.permission;
    if request.account != subject.account {
        return decide_elsewhere(subject, request);
    }
    if let Some(deny) = subject.policies.find(Effect::Deny, p, request.resource) {
        return Decision::deny(deny);
    }
    let grant = granting_role(&subject.roles, p)
        .or_else(|| subject.policies.find(Effect::Allow, p, request.resource));
    let Some(grant) = grant else {
        return Decision::deny(Reason::NotGranted { permission: p });
    };
    if let Some(missing) = key_allows(subject, p) {
        return Decision::deny(missing);
    }
    let mut reasons = vec![grant];
    if let Some(key_roles) = &subject.key_roles {
        reasons.extend(granting_role(key_roles, p));
    }
    Decision {
        allowed: true,
        reasons,
    }
}

/// A request in another account: allowed only to an ancestor account's principal holding
/// Manage Enterprise Accounts (at the requested level) in its own account, for permissions its
/// roles grant. Allow policies are scoped to their own account and do not reach children; the
/// principal's deny policies follow it there (an account-wide deny, or a deny on the object
/// acted on, refuses in a child account as at home).
fn decide_elsewhere(subject: &Subject, request: &Request<'_>) -> Decision {
    let invisible = Decision::deny(Reason::OtherAccount {
        account: request.account,
    });
    if !request.ancestors.contains(&subject.account) {
        return invisible;
    }
    if let Some(deny) = subject
        .policies
        .find(Effect::Deny, request.permission, request.resource)
    {
        let home = decide(
            subject,
            &Request {
                account: subject.account,
                permission: Permission::new(
                    Capability::EnterpriseAccounts,
                    request.permission.level,
                ),
                resource: None,
                ancestors: &[],
            },
        );
        // Invisible stays invisible: a deny must not reveal that the child exists.
        return if home.allowed {
            Decision::deny(deny)
        } else {
            invisible
        };
    }
    let enterprise = Permission::new(Capability::EnterpriseAccounts, request.permission.level);
    let own = decide(
        subject,
        &Request {
            account: subject.account,
            permission: enterprise,
            resource: None,
            ancestors: &[],
        },
    );
    if !own.allowed {
        return invisible;
    }
    let p = request.permission;
    let Some(grant) = granting_role(&subject.roles, p) else {
        return Decision::deny(Reason::NotGranted { permission: p });
    };
    if let Some(missing) = key_allows(subject, p) {
        return Decision::deny(missing);
    }
    Decision {
        allowed: true,
        reasons: vec![
            Reason::EnterpriseAccess {
                account: request.account,
            },
            grant,
        ],
    }
}

#[cfg(test)]
mod tests;
