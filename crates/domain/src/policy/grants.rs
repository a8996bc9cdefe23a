//! No escalation: who may grant a role, manage a user, or attach a permission group.

use super::engine::{Decision, Reason, Request, Subject, decide};
use crate::ids::AccountId;
use crate::permissions::{Capability, Permission};
use crate::roles::{Role, RoleAccess, RoleId};

/// How a principal's roles cover a role it wants to grant, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Coverage {
    /// Not at all.
    None,
    /// Through `Any` Role Access (Owner, Admin) or a policy: the grantor must also hold every
    /// permission of the role.
    HoldingRequired,
    /// Named by a Restcomm role's Role Access list: granted as the matrix says, even where
    /// the grantor lacks some of the role's permissions (an Administrator grants the Turnkey
    /// roles without holding Turnkey capabilities).
    Listed,
}

fn coverage(roles: &[RoleId], target: &Role) -> Coverage {
    roles
        .iter()
        .filter_map(|id| Role::by_id(*id).ok())
        .map(|r| match r.role_access() {
            RoleAccess::Nothing => Coverage::None,
            RoleAccess::Any => Coverage::HoldingRequired,
            RoleAccess::Only(list) if target.restcomm.is_some_and(|t| list.contains(&t)) => {
                Coverage::Listed
            }
            RoleAccess::Only(_) => Coverage::None,
        })
        .max()
        .unwrap_or(Coverage::None)
}

/// Whether `subject` may hand `target` to someone in `account`.
///
/// The subject must be allowed Role Access (write). Its roles' Role Access must then cover the
/// role: a Restcomm role listed in the matrix's Role Access row (an Administrator grants the
/// four Restcomm roles, a Turnkey Applications Administrator only the two Turnkey ones) is
/// granted as listed; otherwise (Owner, Admin, or Role Access granted by a policy) the subject
/// must hold every permission of the role. A service key's own roles must cover the role too.
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
    let mut owner = coverage(&subject.roles, target);
    if owner == Coverage::None
        && access
            .reasons
            .iter()
            .any(|r| matches!(r, Reason::Policy { .. }))
    {
        owner = Coverage::HoldingRequired;
    }
    let covered = match &subject.key_roles {
        Some(key_roles) => owner.min(coverage(key_roles, target)),
        None => owner,
    };
    match covered {
        Coverage::None => Decision {
            allowed: false,
            reasons: vec![Reason::RoleAccessMissing { role_id: target.id }],
        },
        Coverage::Listed => access,
        Coverage::HoldingRequired => check_holds(subject, account, ancestors, target),
    }
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

/// Whether `subject` holds every one of `permissions` account-wide in `account`.
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
        }
    }

    fn may_grant(s: &Subject, role: RoleId) -> bool {
        check_role_grant(s, AccountId(1), &[], Role::by_id(role).unwrap()).allowed
    }

    #[test]
    fn an_administrator_grants_the_four_restcomm_roles_only() {
        let admin = subject(&[ids::ADMINISTRATOR]);
        for r in RestcommRole::ALL {
            assert!(
                may_grant(&admin, Role::by_name(r.name()).unwrap().id),
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
        assert!(may_grant(&key, ids::DEVELOPER));
        assert!(
            !may_grant(&key, ids::SUPPORT),
            "the key's roles cover only Restcomm roles"
        );
        key.key_roles = Some(vec![ids::DEVELOPER]);
        assert!(!may_grant(&key, ids::DEVELOPER));
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
