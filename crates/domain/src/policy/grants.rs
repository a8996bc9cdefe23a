//! No escalation: who may grant a role, manage a user, or attach a permission group.

use super::engine::{Decision, Reason, Request, Subject, decide};
use crate::ids::AccountId;
use crate::permissions::{Capability, Permission};
use crate::roles::{Role, RoleAccess, RoleId};

/// Whether `roles` include one whose Role Access covers `target`: `Owner` and `Admin` cover
/// any role; a Restcomm role covers the roles its Role Access row lists (an Administrator the
/// four Restcomm roles, a Turnkey Applications Administrator the two Turnkey ones).
fn role_access_covers(roles: &[RoleId], target: &Role) -> bool {
    roles
        .iter()
        .filter_map(|id| Role::by_id(*id).ok())
        .any(|r| match r.role_access() {
            RoleAccess::Nothing => false,
            RoleAccess::Any => true,
            RoleAccess::Only(list) => target.restcomm.is_some_and(|t| list.contains(&t)),
        })
}

/// Whether `subject` may hand `target` to someone in `account` (or take it away: a removal is
/// a grant too).
///
/// Three conditions, all required:
/// 1. the subject is allowed Role Access (write) in `account`;
/// 2. Role Access covers the role: one of the subject's roles lists it (see
///    `role_access_covers`), or Role Access was granted by a policy (which names no roles);
///    for a service key, the key's own roles must cover it as well;
/// 3. the subject holds every permission of the role: Role Access narrows what one may grant,
///    never widens it (an Administrator does not grant the Turnkey roles without holding their
///    Turnkey capabilities).
#[must_use]
pub fn check_role_grant(
    subject: &Subject,
    account: AccountId,
    ancestors: &[AccountId],
    target: &Role,
) -> Decision {
    let access = decide(
        subject,
        &Request {
            account,
            permission: Permission::write(Capability::RoleAccess),
            resource: None,
            ancestors,
        },
    );
    if !access.allowed {
        return access;
    }
    let by_policy = access
        .reasons
        .iter()
        .any(|r| matches!(r, Reason::Policy { .. }));
    let owner_covers = by_policy || role_access_covers(&subject.roles, target);
    let key_covers = subject
        .key_roles
        .as_ref()
        .is_none_or(|key_roles| role_access_covers(key_roles, target));
    if !(owner_covers && key_covers) {
        return Decision {
            allowed: false,
            reasons: vec![Reason::RoleAccessMissing { role_id: target.id }],
        };
    }
    check_holds(subject, account, ancestors, target)
}

/// Whether `subject` may manage a principal holding `roles` in `account`: it must hold every
/// permission of every one of those roles (account-wide). Managing covers every change of that
/// principal's permissions or credentials: roles added or removed, policies or memberships that
/// reach it, a password reset, deactivation, deletion, a change of its keys.
#[must_use]
pub fn check_manage(
    subject: &Subject,
    account: AccountId,
    ancestors: &[AccountId],
    roles: &[RoleId],
) -> Decision {
    let all = roles
        .iter()
        .filter_map(|id| Role::by_id(*id).ok())
        .fold(crate::permissions::PermSet::EMPTY, |acc, r| {
            acc.union(r.permissions())
        });
    check_permissions(subject, account, ancestors, all.highest())
}

/// Whether `subject` holds every permission of `target` in `account` (the rule for managing a
/// user who has the role, and part of granting it).
#[must_use]
pub fn check_holds(
    subject: &Subject,
    account: AccountId,
    ancestors: &[AccountId],
    target: &Role,
) -> Decision {
    check_permissions(subject, account, ancestors, target.permissions().highest())
}

/// Whether `subject` holds every one of `permissions` everywhere in `account`: allowed
/// account-wide, and denied on no object. What one grants (or manages) must be held
/// everywhere: a principal denied a permission on one object would otherwise hand it, on that
/// object too, to a principal it creates or changes.
pub fn check_permissions(
    subject: &Subject,
    account: AccountId,
    ancestors: &[AccountId],
    permissions: impl IntoIterator<Item = Permission>,
) -> Decision {
    let mut reasons = Vec::new();
    for permission in permissions {
        let d = decide(
            subject,
            &Request {
                account,
                permission,
                resource: None,
                ancestors,
            },
        );
        if !d.allowed {
            return d;
        }
        if let Some(deny) = subject.policies.denied_on_some_object(permission) {
            return Decision {
                allowed: false,
                reasons: vec![deny],
            };
        }
        reasons.extend(d.reasons.into_iter().take(1));
    }
    reasons.dedup();
    Decision {
        allowed: true,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permissions::matrix::RestcommRole;
    use crate::policy::PolicyIndex;
    use crate::roles::{ROLES, ids};

    fn subject(roles: &[RoleId]) -> Subject {
        Subject {
            account: AccountId(1),
            roles: roles.to_vec(),
            policies: PolicyIndex::default(),
            key_roles: None,
            scope: None,
        }
    }

    fn may_grant(s: &Subject, role: RoleId) -> bool {
        check_role_grant(s, AccountId(1), &[], Role::by_id(role).unwrap()).allowed
    }

    #[test]
    fn an_administrator_grants_the_restcomm_roles_it_holds_only() {
        let admin = subject(&[ids::ADMINISTRATOR]);
        assert!(may_grant(&admin, ids::ADMINISTRATOR));
        assert!(may_grant(&admin, ids::DEVELOPER));
        let d = check_role_grant(
            &admin,
            AccountId(1),
            &[],
            Role::by_id(ids::TURNKEY_DEVELOPER).unwrap(),
        );
        assert!(
            !d.allowed,
            "Role Access lists the Turnkey roles, but the Administrator does not hold their \
             Turnkey capabilities: Role Access narrows, never widens"
        );
        assert!(matches!(d.reasons[0], Reason::NotGranted { .. }), "{d:?}");
        let both = subject(&[ids::ADMINISTRATOR, ids::TURNKEY_ADMINISTRATOR]);
        for r in RestcommRole::ALL {
            assert!(
                may_grant(&both, Role::by_name(r.name()).unwrap().id),
                "{}",
                r.name()
            );
        }
        assert!(!may_grant(&admin, ids::SUPPORT));
        assert!(!may_grant(&admin, ids::OWNER));
        let d = check_role_grant(
            &admin,
            AccountId(1),
            &[],
            Role::by_id(ids::SUPPORT).unwrap(),
        );
        assert_eq!(
            d.reasons,
            vec![Reason::RoleAccessMissing {
                role_id: ids::SUPPORT
            }]
        );
    }

    #[test]
    fn a_turnkey_administrator_grants_only_the_turnkey_roles() {
        let taa = subject(&[ids::TURNKEY_ADMINISTRATOR]);
        assert!(may_grant(&taa, ids::TURNKEY_ADMINISTRATOR));
        assert!(may_grant(&taa, ids::TURNKEY_DEVELOPER));
        assert!(!may_grant(&taa, ids::ADMINISTRATOR));
        assert!(!may_grant(&taa, ids::DEVELOPER));
    }

    #[test]
    fn owners_grant_everything_admins_all_they_hold() {
        let owner = subject(&[ids::OWNER]);
        let admin = subject(&[ids::ADMIN]);
        for r in ROLES {
            assert!(may_grant(&owner, r.id), "{}", r.name);
        }
        assert!(
            !may_grant(&admin, ids::OWNER),
            "Owner holds Manage Enterprise Accounts"
        );
        assert!(may_grant(&admin, ids::ADMIN));
        assert!(may_grant(&admin, ids::ADMINISTRATOR));
    }

    #[test]
    fn roles_without_role_access_grant_nothing() {
        let dev = subject(&[ids::DEVELOPER, ids::USER_MANAGER]);
        assert!(!may_grant(&dev, ids::DEVELOPER));
    }

    #[test]
    fn a_key_needs_role_access_in_its_own_roles_too() {
        let mut key = subject(&[ids::OWNER]);
        key.key_roles = Some(vec![ids::ADMINISTRATOR]);
        assert!(may_grant(&key, ids::ADMINISTRATOR));
        assert!(may_grant(&key, ids::DEVELOPER));
        assert!(
            !may_grant(&key, ids::SUPPORT),
            "the key's roles cover only Restcomm roles"
        );
        key.key_roles = Some(vec![ids::DEVELOPER]);
        assert!(!may_grant(&key, ids::DEVELOPER));
    }

    #[test]
    fn managing_needs_every_permission_of_every_role() {
        let admin = subject(&[ids::ADMIN]);
        let ok = |s: &Subject, roles: &[RoleId]| check_manage(s, AccountId(1), &[], roles).allowed;
        assert!(ok(&admin, &[]), "a user without roles");
        assert!(ok(&admin, &[ids::DEVELOPER, ids::SUPPORT]));
        assert!(
            !ok(&admin, &[ids::OWNER]),
            "nobody below the Owner manages an Owner"
        );
        assert!(!ok(&admin, &[ids::SUPPORT, ids::OWNER]));
        let dev = subject(&[ids::DEVELOPER]);
        assert!(
            ok(&dev, &[ids::SUPPORT]),
            "Developer holds every Support permission"
        );
        assert!(
            !ok(&dev, &[ids::SUPERVISOR]),
            "Supervisor reads Task Router records"
        );
        assert!(ok(&subject(&[ids::OWNER]), &[ids::OWNER, ids::ADMIN]));
    }

    #[test]
    fn a_permission_denied_on_one_object_is_not_held() {
        use crate::ids::{Hex32, PolicyId, UserGroupId};
        use crate::policy::{Effect, PolicyRule, ResourceKey, ResourceType, Scope, ScopeObjects};
        let rule = PolicyRule {
            id: PolicyId(Hex32([1; 16])),
            user_group: UserGroupId(Hex32([2; 16])),
            effect: Effect::Deny,
            permissions: vec![Permission::write(Capability::RoleAccess)],
            scopes: vec![Scope {
                account: AccountId(1),
                objects: ScopeObjects::Only(vec![ResourceKey::new(ResourceType::User, 3)]),
            }],
        };
        let owner = Subject {
            policies: PolicyIndex::compile(AccountId(1), &[rule]),
            ..subject(&[ids::OWNER])
        };
        let d = check_holds(&owner, AccountId(1), &[], Role::by_id(ids::OWNER).unwrap());
        assert!(
            !d.allowed,
            "it could hand Role Access on user 3 to someone new"
        );
        assert!(matches!(d.reasons[0], Reason::Policy { .. }), "{d:?}");
        assert!(
            check_holds(
                &owner,
                AccountId(1),
                &[],
                Role::by_id(ids::SUPPORT).unwrap()
            )
            .allowed,
            "what the deny does not touch is still held"
        );
    }

    #[test]
    fn holding_is_checked_per_permission() {
        let admin = subject(&[ids::ADMINISTRATOR]);
        assert!(
            check_holds(
                &admin,
                AccountId(1),
                &[],
                Role::by_id(ids::DEVELOPER).unwrap()
            )
            .allowed
        );
        let d = check_holds(&admin, AccountId(1), &[], Role::by_id(ids::OWNER).unwrap());
        assert!(!d.allowed);
        assert!(matches!(d.reasons[0], Reason::NotGranted { .. }));
    }
}
